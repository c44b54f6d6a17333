import { stripAnsi, visibleWidth } from './ansi';
import { renderDiff } from './diff-render';
import { renderMarkdown } from './markdown';

describe('markdown', () => {
  it('renders emphasis, code spans, headings and lists as terminal text without the markup', () => {
    const out = renderMarkdown('## Plan\n\nThe **first** step uses `npm test`.\n\n- one\n- two', 60);
    const plain = stripAnsi(out);
    expect(plain).toContain('Plan');
    expect(plain).not.toContain('##');
    expect(plain).toContain('The first step uses npm test.');
    expect(plain).not.toContain('**');
    expect(plain).toMatch(/\* one\n\s*\* two/);
    expect(out).toContain('\x1b[1mfirst\x1b[22m');
    expect(out).toContain('\x1b[33mnpm test\x1b[39m');
  });

  it('keeps code blocks as code, and reflows prose to the width', () => {
    const out = stripAnsi(renderMarkdown(`${'word '.repeat(40)}\n\n\`\`\`ts\nconst x: number = 1;\n\`\`\``, 40));
    expect(out).toContain('const x: number = 1;');
    for (const line of out.split('\n').filter((l) => l.includes('word')))
      expect(visibleWidth(line)).toBeLessThanOrEqual(40);
  });

  it('shows raw HTML in agent text as text', () => {
    expect(stripAnsi(renderMarkdown('<script>alert(1)</script>', 60))).toContain('<script>');
  });
});

describe('diffs', () => {
  const patch = [
    '--- a/src/app.ts',
    '+++ b/src/app.ts',
    '@@ -1,3 +1,3 @@',
    ' const a = 1;',
    '-const b = 2;',
    '+const b = 3;',
    ' export { a, b };',
    '',
  ].join('\n');

  it('colours added and removed lines with their line numbers, and counts them', () => {
    const d = renderDiff('src/app.ts', patch, 60);
    expect([d.added, d.removed]).toEqual([1, 1]);
    expect(stripAnsi(d.header)).toBe('✎ src/app.ts  +1 -1');
    expect(d.lines.map(stripAnsi)).toEqual([
      '  1   const a = 1;',
      '  2 - const b = 2;',
      '  2 + const b = 3;',
      '  3   export { a, b };',
    ]);
    expect(d.lines[1]).toContain('\x1b[31m');
    expect(d.lines[2]).toContain('\x1b[32m');
  });

  it('cuts long lines to the width and long diffs to a number of lines', () => {
    const long = [
      '--- a/x',
      '+++ b/x',
      '@@ -0,0 +1,50 @@',
      ...Array.from({ length: 50 }, (_, i) => `+${'y'.repeat(100)}${i}`),
    ];
    const d = renderDiff('x', long.join('\n'), 40, 10);
    expect(d.lines).toHaveLength(10);
    expect(d.hidden).toBe(40);
    for (const l of d.lines) expect(visibleWidth(l)).toBeLessThanOrEqual(40);
  });

  it('shows content that is not a unified diff as added lines', () => {
    const d = renderDiff('new.txt', 'hello\nworld\n', 40);
    expect(d.lines.map(stripAnsi)).toEqual(['  1 + hello', '  2 + world']);
  });
});
