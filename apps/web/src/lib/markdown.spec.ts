import { parseBlocks, parseInline } from '@/lib/markdown';

describe('parseBlocks', () => {
  it('splits paragraphs, fenced code, headings and lists', () => {
    const md = '# Plan\n\nFirst line\nsecond line\n\n```ts\nconst a = 1;\n\nconst b = 2;\n```\n- one\n- two\n1. x';
    expect(parseBlocks(md)).toEqual([
      { kind: 'heading', level: 1, text: 'Plan' },
      { kind: 'paragraph', text: 'First line\nsecond line' },
      { kind: 'code', lang: 'ts', text: 'const a = 1;\n\nconst b = 2;' },
      { kind: 'list', ordered: false, items: ['one', 'two'] },
      { kind: 'list', ordered: true, items: ['x'] },
    ]);
  });

  it('runs an unterminated fence to the end (text still streaming)', () => {
    expect(parseBlocks('see:\n```\nls -la')).toEqual([
      { kind: 'paragraph', text: 'see:' },
      { kind: 'code', lang: '', text: 'ls -la' },
    ]);
  });
});

describe('parseInline', () => {
  it('finds code, bold and http(s) links only', () => {
    expect(parseInline('run `npm i` **now**, see [docs](https://x.dev) or [bad](javascript:alert(1))')).toEqual([
      { kind: 'text', text: 'run ' },
      { kind: 'code', text: 'npm i' },
      { kind: 'text', text: ' ' },
      { kind: 'bold', text: 'now' },
      { kind: 'text', text: ', see ' },
      { kind: 'link', text: 'docs', href: 'https://x.dev' },
      { kind: 'text', text: ' or [bad](javascript:alert(1))' },
    ]);
  });
});
