import {
  formatCost,
  formatDuration,
  formatTokens,
  hardWrap,
  hardWrapTail,
  outputPreview,
  toolLine,
  toolSummary,
} from './format';

describe('tool lines', () => {
  it('puts icon, tool, what it does, status and duration on one line', () => {
    expect(toolLine({ tool: 'shell', summary: '$ npm test', status: 'ok', elapsedMs: 1234 }, 60)).toBe(
      '✓ shell $ npm test  1.2s',
    );
    expect(toolLine({ tool: 'shell', summary: '$ false', status: 'failed', elapsedMs: 40, exitCode: 1 }, 60)).toBe(
      '✗ shell $ false  failed · exit 1 · 40ms',
    );
    expect(toolLine({ tool: 'shell', summary: '$ rm -rf /', status: 'denied', elapsedMs: 5 }, 60)).toBe(
      '⊘ shell $ rm -rf /  denied · 5ms',
    );
    expect(toolLine({ tool: 'read', summary: 'src/a.ts', status: 'running', elapsedMs: null }, 60)).toBe(
      '◌ read src/a.ts  running',
    );
  });

  it('shortens the summary first, so status and duration always fit the width', () => {
    const line = toolLine({ tool: 'shell', summary: `$ echo ${'x'.repeat(200)}`, status: 'ok', elapsedMs: 61_000 }, 40);
    expect(Array.from(line).length).toBeLessThanOrEqual(40);
    expect(line).toMatch(/^✓ shell \$ echo x+… {2}1m01s$/);
  });

  it('summarises an input by its command, path or JSON, on one line', () => {
    expect(toolSummary({ command: 'ls -la\nwc -l' })).toBe('$ ls -la ⏎ wc -l');
    expect(toolSummary({ command: ['git', 'status'] })).toBe('$ git status');
    expect(toolSummary({ path: 'README.md', content: 'x' })).toBe('README.md');
    expect(toolSummary({ n: 1 })).toBe('{"n":1}');
    expect(toolSummary('raw')).toBe('raw');
  });
});

describe('numbers', () => {
  it('formats durations, tokens and cost', () => {
    expect([formatDuration(420), formatDuration(1250), formatDuration(65_000)]).toEqual(['420ms', '1.3s', '1m05s']);
    expect([formatTokens(950), formatTokens(1234), formatTokens(3_400_000)]).toEqual(['950', '1.2k', '3.4M']);
    expect([formatCost(0.01234), formatCost(12.5)]).toEqual(['$0.0123', '$12.50']);
  });
});

describe('output', () => {
  it('previews the last lines, cut to the width, and counts the hidden ones', () => {
    expect(outputPreview('a\nb\nc\nd\n', 2, 10)).toEqual({ lines: ['c', 'd'], hidden: 2 });
    expect(outputPreview('', 3, 10)).toEqual({ lines: [], hidden: 0 });
    expect(outputPreview('0123456789abc', 3, 6)).toEqual({ lines: ['01234…'], hidden: 0 });
  });

  it('hard-wraps text to the width', () => {
    expect(hardWrap('abcdef\n\nxy', 4)).toEqual(['abcd', 'ef', '', 'xy']);
  });

  it('wraps only the tail it is asked for, the same lines as wrapping the whole text', () => {
    const text = ['abcdefghij', '', 'klm', 'nopqrstu', 'é€😀xyz', ''].join('\n');
    for (let max = 1; max <= 12; max += 1) {
      expect(hardWrapTail(text, 4, max)).toEqual(hardWrap(text, 4).slice(-max));
    }
    expect(hardWrapTail('', 4, 3)).toEqual(['']);
  });

  it('wraps only the tail of one long line, the same lines as wrapping all of it', () => {
    const line = 'ab😀cdé€'.repeat(40) + 'xyz';
    for (const max of [1, 2, 3, 7]) {
      for (const width of [3, 4, 5]) {
        const tail = hardWrapTail(`first\n${line}`, width, max);
        expect(tail).toEqual(hardWrap(`first\n${line}`, width).slice(-max));
        expect(tail).toHaveLength(max);
      }
    }
    expect(hardWrapTail('word '.repeat(5_000), 118, 30).join('')).toBe(
      'word '.repeat(5_000).slice(-(25_000 % 118) - 29 * 118),
    );
  });
});
