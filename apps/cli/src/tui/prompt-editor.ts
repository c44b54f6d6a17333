/**
 * The prompt: a small multi-line editor with history, as a pure function of key events. Enter sends; Alt-Enter,
 * Ctrl-J or a trailing backslash before Enter start a new line; a paste (bracketed, or a chunk of several
 * characters) is inserted as text, its line breaks included, and never sends by itself.
 */

export interface EditorState {
  text: string;
  cursor: number;
  history: string[];
  /** Position in `history` while browsing it (null: editing the draft). */
  historyIndex: number | null;
  /** The text being written before browsing history started. */
  draft: string;
  /** Inside a bracketed paste: Enter is a line break. */
  isPasting: boolean;
}

export type EditorEvent =
  | { kind: 'insert'; text: string }
  | { kind: 'paste'; text: string }
  | { kind: 'paste-start' }
  | { kind: 'paste-end' }
  | { kind: 'submit' }
  | { kind: 'newline' }
  | { kind: 'backspace' }
  | { kind: 'delete' }
  | { kind: 'left' }
  | { kind: 'right' }
  | { kind: 'up' }
  | { kind: 'down' }
  | { kind: 'home' }
  | { kind: 'end' }
  | { kind: 'kill-before' }
  | { kind: 'delete-word' }
  | { kind: 'none' };

/** The fields of Ink's `Key` the editor reads (kept here so this module stays free of Ink). */
export interface KeyLike {
  return: boolean;
  ctrl: boolean;
  meta: boolean;
  shift: boolean;
  backspace: boolean;
  delete: boolean;
  leftArrow: boolean;
  rightArrow: boolean;
  upArrow: boolean;
  downArrow: boolean;
  home: boolean;
  end: boolean;
  tab: boolean;
  escape: boolean;
}

export function emptyEditor(history: string[] = []): EditorState {
  return { text: '', cursor: 0, history, historyIndex: null, draft: '', isPasting: false };
}

/** Maps one input callback of Ink (`input`, `key`) to an editor event. */
export function editorEvent(input: string, key: KeyLike, isPasting: boolean): EditorEvent {
  if (input === '[200~') return { kind: 'paste-start' };
  if (input === '[201~') return { kind: 'paste-end' };
  if (key.return)
    return isPasting ? { kind: 'newline' } : key.meta || key.shift ? { kind: 'newline' } : { kind: 'submit' };
  if (input === '\n') return { kind: 'newline' };
  // Backspace arrives as DEL (0x7f), which Ink names `delete`; the forward-delete key has its own escape sequence.
  if (key.backspace || key.delete) return { kind: 'backspace' };
  if (key.leftArrow) return { kind: 'left' };
  if (key.rightArrow) return { kind: 'right' };
  if (key.upArrow) return { kind: 'up' };
  if (key.downArrow) return { kind: 'down' };
  if (key.home || (key.ctrl && input === 'a')) return { kind: 'home' };
  if (key.end || (key.ctrl && input === 'e')) return { kind: 'end' };
  if (key.ctrl && input === 'u') return { kind: 'kill-before' };
  if (key.ctrl && input === 'w') return { kind: 'delete-word' };
  if (key.ctrl || key.escape || key.tab || !input) return { kind: 'none' };
  if (isPasting) return { kind: 'paste', text: input };
  // Several characters in one read: a paste (or fast typing). A single trailing CR is the Enter typed after it.
  if (input.length > 1 && /[\r\n]/.test(input)) {
    const body = input.replace(/\r$/, '');
    return /[\r\n]/.test(body) ? { kind: 'paste', text: input } : { kind: 'paste', text: `${body}\r` };
  }
  return { kind: 'insert', text: input };
}

export interface EditorResult {
  state: EditorState;
  /** Text to send, when the event sent it. */
  submitted?: string;
}

export function applyEditorEvent(s: EditorState, e: EditorEvent): EditorResult {
  switch (e.kind) {
    case 'insert':
      return { state: insert(s, e.text) };
    case 'paste': {
      // A paste ending in exactly one CR (text typed and Enter in one read) sends; any other line break is text.
      const endsWithEnter = /[^\r\n]\r$/.test(e.text) && !/[\r\n]/.test(e.text.slice(0, -1));
      if (endsWithEnter && !s.isPasting) return applyEditorEvent(insert(s, e.text.slice(0, -1)), { kind: 'submit' });
      return { state: insert(s, e.text.replace(/\r\n?/g, '\n').replace(/\t/g, '  ')) };
    }
    case 'paste-start':
      return { state: { ...s, isPasting: true } };
    case 'paste-end':
      return { state: { ...s, isPasting: false } };
    case 'newline':
      return { state: insert(s, '\n') };
    case 'submit': {
      // A trailing backslash continues the prompt on a new line (as in a shell).
      if (s.text.slice(0, s.cursor).endsWith('\\') && s.cursor === s.text.length) {
        return { state: { ...s, text: `${s.text.slice(0, -1)}\n`, cursor: s.text.length } };
      }
      const text = s.text.trim();
      if (!text) return { state: { ...s, text: '', cursor: 0 } };
      const history = s.history[s.history.length - 1] === text ? s.history : [...s.history, text];
      return { state: emptyEditor(history), submitted: text };
    }
    case 'backspace':
      if (s.cursor === 0) return { state: s };
      return edit(s, s.text.slice(0, s.cursor - 1) + s.text.slice(s.cursor), s.cursor - 1);
    case 'delete':
      return edit(s, s.text.slice(0, s.cursor) + s.text.slice(s.cursor + 1), s.cursor);
    case 'left':
      return { state: { ...s, cursor: Math.max(0, s.cursor - 1) } };
    case 'right':
      return { state: { ...s, cursor: Math.min(s.text.length, s.cursor + 1) } };
    case 'home':
      return { state: { ...s, cursor: s.text.lastIndexOf('\n', s.cursor - 1) + 1 } };
    case 'end': {
      const nl = s.text.indexOf('\n', s.cursor);
      return { state: { ...s, cursor: nl === -1 ? s.text.length : nl } };
    }
    case 'kill-before': {
      const start = s.text.lastIndexOf('\n', s.cursor - 1) + 1;
      return edit(s, s.text.slice(0, start) + s.text.slice(s.cursor), start);
    }
    case 'delete-word': {
      const before = s.text.slice(0, s.cursor).replace(/\S+\s*$/, '');
      return edit(s, before + s.text.slice(s.cursor), before.length);
    }
    case 'up':
      return { state: moveLine(s, -1) ?? historyStep(s, -1) };
    case 'down':
      return { state: moveLine(s, 1) ?? historyStep(s, 1) };
    case 'none':
      return { state: s };
  }
}

function insert(s: EditorState, text: string): EditorState {
  return { ...s, text: s.text.slice(0, s.cursor) + text + s.text.slice(s.cursor), cursor: s.cursor + text.length };
}

function edit(s: EditorState, text: string, cursor: number): EditorResult {
  return { state: { ...s, text, cursor } };
}

/** Moves the cursor one line up or down inside a multi-line prompt; null on the first / last line. */
function moveLine(s: EditorState, dir: -1 | 1): EditorState | null {
  const lineStart = s.text.lastIndexOf('\n', s.cursor - 1) + 1;
  const col = s.cursor - lineStart;
  if (dir === -1) {
    if (lineStart === 0) return null;
    const prevStart = s.text.lastIndexOf('\n', lineStart - 2) + 1;
    return { ...s, cursor: Math.min(prevStart + col, lineStart - 1) };
  }
  const nextNl = s.text.indexOf('\n', s.cursor);
  if (nextNl === -1) return null;
  const after = s.text.indexOf('\n', nextNl + 1);
  return { ...s, cursor: Math.min(nextNl + 1 + col, after === -1 ? s.text.length : after) };
}

function historyStep(s: EditorState, dir: -1 | 1): EditorState {
  if (s.history.length === 0) return s;
  if (s.historyIndex === null) {
    if (dir === 1) return s;
    const i = s.history.length - 1;
    return { ...s, historyIndex: i, draft: s.text, text: s.history[i], cursor: s.history[i].length };
  }
  const i = s.historyIndex + dir;
  if (i < 0) return s;
  if (i >= s.history.length) return { ...s, historyIndex: null, text: s.draft, cursor: s.draft.length };
  return { ...s, historyIndex: i, text: s.history[i], cursor: s.history[i].length };
}

/** The prompt's lines with the cursor's line and column, for drawing. */
export function cursorPosition(s: EditorState): { lines: string[]; line: number; col: number } {
  const lines = s.text.split('\n');
  const before = s.text.slice(0, s.cursor).split('\n');
  return { lines, line: before.length - 1, col: before[before.length - 1].length };
}
