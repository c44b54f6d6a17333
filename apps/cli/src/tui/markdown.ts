import { Marked } from 'marked';
import { markedTerminal } from 'marked-terminal';
import { blue, bold, cyan, dim, italic, magenta, yellow } from './ansi';

const renderers = new Map<number, Marked>();

function rendererFor(width: number): Marked {
  let m = renderers.get(width);
  if (!m) {
    // Styles are ours (plain ANSI), so the output does not depend on how marked-terminal's chalk sees the terminal;
    // code blocks are highlighted by its cli-highlight, which colours only on a colour terminal.
    m = new Marked(
      markedTerminal({
        width,
        reflowText: true,
        showSectionPrefix: false,
        emoji: false,
        tab: 2,
        strong: bold,
        em: italic,
        codespan: yellow,
        heading: (s) => bold(cyan(s)),
        firstHeading: (s) => bold(magenta(s)),
        blockquote: (s) => dim(italic(s)),
        link: blue,
        href: blue,
      }),
    );
    renderers.set(width, m);
  }
  return m;
}

/**
 * A finished agent message as terminal markdown at `width` columns: headings, emphasis, lists, tables, and code
 * blocks highlighted. Agent text is never executed or linked as HTML: raw HTML stays text.
 */
export function renderMarkdown(text: string, width: number): string {
  const key = `${width}\n${text}`;
  const cached = rendered.get(key);
  if (cached !== undefined) return cached;
  const out = rendererFor(Math.max(20, width)).parse(text, { async: false }).replace(/\n+$/, '').replace(/^\n+/, '');
  if (rendered.size >= 100) rendered.delete(rendered.keys().next().value as string);
  rendered.set(key, out);
  return out;
}

/** Finished messages are drawn again on every frame while they sit in the live area: render each once. */
const rendered = new Map<string, string>();
