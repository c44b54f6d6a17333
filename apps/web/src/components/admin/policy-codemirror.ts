import { lintGutter, setDiagnostics, type Diagnostic } from '@codemirror/lint';
import { yaml } from '@codemirror/lang-yaml';
import { HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { tags } from '@lezer/highlight';
import { EditorState, type Text } from '@codemirror/state';
import { EditorView, basicSetup } from 'codemirror';
import type { PolicyIssue } from '@yoke/protocol';

/** A mounted policy editor, driven by its React wrapper. */
export interface PolicyCodeMirror {
  /** Replaces the whole document (an example applied, the saved set reloaded); not reported through onChange. */
  setDoc(text: string): void;
  /** Shows the validator's issues inline: underlined at their position and marked in the gutter. */
  setIssues(issues: PolicyIssue[]): void;
  destroy(): void;
}

/**
 * YAML's tokens get the classes the markdown view's code uses (`hljs-attr`, `hljs-string`…), so the editor has the
 * app's own light and dark highlight colours (globals.css) rather than CodeMirror's light-only defaults.
 */
const APP_HIGHLIGHT = HighlightStyle.define([
  { tag: [tags.propertyName, tags.definition(tags.propertyName)], class: 'hljs-attr' },
  { tag: [tags.string, tags.special(tags.string), tags.content], class: 'hljs-string' },
  { tag: [tags.number, tags.integer, tags.float], class: 'hljs-number' },
  { tag: [tags.bool, tags.null, tags.keyword, tags.atom], class: 'hljs-literal' },
  { tag: [tags.comment, tags.lineComment, tags.blockComment], class: 'hljs-comment' },
  { tag: [tags.labelName, tags.typeName, tags.meta, tags.processingInstruction], class: 'hljs-meta' },
]);

/**
 * The editor on the app's colour variables (light and dark alike) instead of CodeMirror's light-only defaults. A
 * CodeMirror theme rather than utility classes: CodeMirror styles its own elements at run time, outside the cascade
 * layers, so it would win over any utility.
 */
const APP_THEME = EditorView.theme({
  '&': { minHeight: '16em', fontSize: '0.9rem', color: 'var(--text)' },
  '&.cm-focused': { outline: 'none' },
  '.cm-scroller': { fontFamily: 'var(--font-mono)', maxHeight: '60vh' },
  '.cm-gutters': { backgroundColor: 'var(--surface-2)', color: 'var(--muted)', borderRight: '1px solid var(--border)' },
  '.cm-content': { caretColor: 'var(--text)' },
  '.cm-cursor': { borderLeftColor: 'var(--text)' },
  '.cm-activeLine, .cm-activeLineGutter': { backgroundColor: 'color-mix(in srgb, var(--accent) 8%, transparent)' },
  '&.cm-focused > .cm-scroller > .cm-selectionLayer .cm-selectionBackground, .cm-selectionBackground': {
    background: 'color-mix(in srgb, var(--accent) 25%, transparent) !important',
  },
});

/**
 * CodeMirror 6 with line numbers, YAML highlighting and lint markers. Loaded with a dynamic import by
 * policy-code-editor.tsx so that only the policies tab downloads it.
 */
export function mountPolicyCodeMirror(
  parent: HTMLElement,
  options: { doc: string; label: string; describedBy: string; onChange: (text: string) => void },
): PolicyCodeMirror {
  let isApplying = false;
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: options.doc,
      extensions: [
        basicSetup,
        yaml(),
        syntaxHighlighting(APP_HIGHLIGHT),
        APP_THEME,
        lintGutter(),
        EditorView.contentAttributes.of({
          'aria-label': options.label,
          'aria-describedby': options.describedBy,
          'aria-multiline': 'true',
          spellcheck: 'false',
          'data-testid': 'policy-yaml',
        }),
        EditorView.updateListener.of((u) => {
          if (u.docChanged && !isApplying) options.onChange(u.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    setDoc(text) {
      if (text === view.state.doc.toString()) return;
      isApplying = true;
      try {
        view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
      } finally {
        isApplying = false;
      }
    },
    setIssues(issues) {
      view.dispatch(
        setDiagnostics(
          view.state,
          issues.map((i) => diagnosticOf(view.state.doc, i)),
        ),
      );
    },
    destroy() {
      view.destroy();
    },
  };
}

/** An issue's 1-based line and column as a range: from its column to the end of the line (at least one character). */
export function diagnosticOf(doc: Text, issue: PolicyIssue): Diagnostic {
  const line = doc.line(Math.min(Math.max(issue.line, 1), doc.lines));
  const from = line.from + Math.min(Math.max(issue.col - 1, 0), line.length);
  const to = from < line.to ? line.to : Math.min(from + 1, doc.length);
  return {
    from,
    to,
    severity: 'error',
    source: issue.path || undefined,
    message: issue.message,
  };
}
