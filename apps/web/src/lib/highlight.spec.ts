import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { codeTokens } from '@/components/session/code-tokens';
import { highlightTokens } from '@/lib/highlight';

const html = (text: string, language: string) =>
  renderToStaticMarkup(createElement('code', null, ...codeTokens(highlightTokens(text, language) ?? [text])));

describe('highlighting', () => {
  it('draws a registered language (or its alias) as hljs spans, the text unchanged', () => {
    const out = html('const a = "x"; // note', 'ts');
    expect(out).toContain('<span class="hljs-keyword">const</span>');
    expect(out).toContain('<span class="hljs-string">&quot;x&quot;</span>');
    expect(out.replace(/<[^>]+>/g, '')).toBe('const a = &quot;x&quot;; // note');
  });

  it('leaves unknown languages alone, and code that looks like HTML stays text', () => {
    expect(highlightTokens('DISPLAY "<b>"', 'cobol')).toBeNull();
    const out = html('echo "<img src=x onerror=alert(1)>"', 'bash');
    expect(out).not.toContain('<img');
    expect(out).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
});
