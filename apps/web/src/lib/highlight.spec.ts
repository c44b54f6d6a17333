import { highlightCode } from '@/lib/highlight';

const code = (lang: string | null, text: string) => ({
  type: 'element' as const,
  tagName: 'code',
  properties: { className: lang ? [`language-${lang}`] : [] } as Record<string, unknown>,
  children: [{ type: 'text', value: text }],
});

describe('highlightCode', () => {
  it('turns a registered language into hljs spans, text unchanged', () => {
    const el = code('ts', 'const a = "x"; // note');
    expect(highlightCode(el)).toBe(true);
    expect(el.properties.className).toEqual(['hljs', 'language-ts']);
    const flat = JSON.stringify(el.children);
    expect(flat).toContain('"hljs-keyword"');
    expect(flat).toContain('"hljs-string"');
    const text = (n: { value?: string; children?: unknown[] }): string =>
      n.value ?? (n.children as { value?: string }[]).map(text).join('');
    expect(el.children.map(text).join('')).toBe('const a = "x"; // note');
  });

  it('leaves unknown languages and plain fences alone, and never makes HTML', () => {
    const other = code('cobol', 'DISPLAY "<b>"');
    expect(highlightCode(other)).toBe(false);
    expect(highlightCode(code(null, 'x'))).toBe(false);
    const html = code('bash', 'echo "<img src=x onerror=alert(1)>"');
    highlightCode(html);
    expect(JSON.stringify(html.children)).not.toContain('"tagName":"img"');
  });
});
