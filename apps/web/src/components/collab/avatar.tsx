/** A person's initials on a colour derived from their id (stable across views). */
export function Avatar({ id, name, title }: { id: string; name: string; title?: string }) {
  let h = 0;
  for (const ch of id) h = (h * 31 + ch.charCodeAt(0)) % 360;
  const initials =
    name
      .split(/\s+/)
      .filter(Boolean)
      .slice(0, 2)
      .map((w) => w[0]?.toUpperCase())
      .join('') || '?';
  return (
    <span
      className="avatar"
      style={{ background: `hsl(${h} 55% 45%)` }}
      title={title ?? name}
      aria-label={title ?? name}
    >
      {initials}
    </span>
  );
}
