/**
 * Every word typed must appear in the item (its title, id, agent, harness or status); words that start the item or
 * one of its words rank first. Stricter than cmdk's default fuzzy match, which lets unrelated sessions through.
 */
export function paletteFilter(value: string, search: string, keywords: string[] = []): number {
  const hay = `${value} ${keywords.join(' ')}`.toLowerCase();
  const words = search.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return 1;
  if (!words.every((w) => hay.includes(w))) return 0;
  if (hay.startsWith(words[0])) return 1;
  return hay.includes(` ${words[0]}`) ? 0.8 : 0.5;
}
