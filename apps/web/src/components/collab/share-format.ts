/** How a share link's use count reads: "2 of 5 uses", "1 use, no limit". */
export function formatUses(uses: number, maxUses: number | null): string {
  if (maxUses !== null) return `${uses} of ${maxUses} ${maxUses === 1 ? 'use' : 'uses'}`;
  return `${uses} ${uses === 1 ? 'use' : 'uses'}, no limit`;
}

/** When a share link stops working: "never expires", "expires in 5 h (date)", "expired (date)". */
export function formatExpiry(expiresAt: string | null, now: number = Date.now()): string {
  if (expiresAt === null) return 'never expires';
  const at = new Date(expiresAt);
  const when = at.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  const left = at.getTime() - now;
  if (left <= 0) return `expired ${when}`;
  const minutes = Math.ceil(left / 60_000);
  const span =
    minutes < 60
      ? `${minutes} min`
      : minutes < 48 * 60
        ? `${Math.round(minutes / 60)} h`
        : `${Math.round(minutes / 1440)} d`;
  return `expires in ${span} (${when})`;
}
