import { highlightTokens } from '@/lib/highlight';
import { highlightLines, languageOfPath } from './highlight-lines';

describe('highlightLines', () => {
  it('splits highlighted code into lines, each token keeping its highlight.js classes', () => {
    const lines = highlightLines("const a = 'x';\n/* one\ntwo */\n", 'typescript', highlightTokens);
    expect(lines.map((l) => l.map((s) => s.text).join(''))).toEqual(["const a = 'x';", '/* one', 'two */']);
    expect(lines[0][0]).toEqual({ text: 'const', className: 'hljs-keyword' });
    expect(lines[0].find((s) => s.text === "'x'")?.className).toBe('hljs-string');
    // A comment over two lines is a comment on both.
    expect(lines[1]).toEqual([{ text: '/* one', className: 'hljs-comment' }]);
    expect(lines[2]).toEqual([{ text: 'two */', className: 'hljs-comment' }]);
  });

  it('draws the lines plain until the highlighter is loaded', () => {
    expect(highlightLines('const a = 1;', 'typescript', null)).toEqual([[{ text: 'const a = 1;', className: '' }]]);
  });

  it('keeps empty lines and leaves unknown languages plain', () => {
    expect(highlightLines('a\n\nb', null, highlightTokens)).toEqual([
      [{ text: 'a', className: '' }],
      [],
      [{ text: 'b', className: '' }],
    ]);
    expect(highlightLines('', null, highlightTokens)).toEqual([[]]);
  });

  it('picks the grammar from the file extension', () => {
    expect(languageOfPath('src/app.TS')).toBe('typescript');
    expect(languageOfPath('deploy/values.yml')).toBe('yaml');
    expect(languageOfPath('Makefile')).toBeNull();
    expect(languageOfPath('.bashrc')).toBeNull();
  });
});
