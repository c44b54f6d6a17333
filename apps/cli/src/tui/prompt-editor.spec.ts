import {
  applyEditorEvent,
  cursorPosition,
  editorEvent,
  type EditorState,
  emptyEditor,
  type KeyLike,
} from './prompt-editor';

const NO_KEY: KeyLike = {
  return: false,
  ctrl: false,
  meta: false,
  shift: false,
  backspace: false,
  delete: false,
  leftArrow: false,
  rightArrow: false,
  upArrow: false,
  downArrow: false,
  home: false,
  end: false,
  tab: false,
  escape: false,
};

/** Feeds Ink-shaped input callbacks to the editor; returns the final state and everything sent. */
function feed(state: EditorState, ...inputs: [string, Partial<KeyLike>?][]): { state: EditorState; sent: string[] } {
  const sent: string[] = [];
  for (const [input, key] of inputs) {
    const r = applyEditorEvent(state, editorEvent(input, { ...NO_KEY, ...key }, state.isPasting));
    state = r.state;
    if (r.submitted !== undefined) sent.push(r.submitted);
  }
  return { state, sent };
}

const ENTER: [string, Partial<KeyLike>] = ['\r', { return: true }];

describe('prompt editor', () => {
  it('sends on Enter and keeps a history walked with up and down', () => {
    let r = feed(emptyEditor(), ['h'], ['i'], ENTER);
    expect(r.sent).toEqual(['hi']);
    r = feed(r.state, ['second'], ENTER, ['draft']);
    expect(r.sent).toEqual(['second']);
    r = feed(r.state, ['', { upArrow: true }]);
    expect(r.state.text).toBe('second');
    r = feed(r.state, ['', { upArrow: true }], ['', { upArrow: true }]);
    expect(r.state.text).toBe('hi');
    r = feed(r.state, ['', { downArrow: true }], ['', { downArrow: true }]);
    expect(r.state.text).toBe('draft');
  });

  it('starts a new line with Alt-Enter, Ctrl-J, or a trailing backslash, and moves between lines', () => {
    const r = feed(emptyEditor(), ['one'], ['\r', { return: true, meta: true }], ['two'], ['\n'], ['three\\'], ENTER);
    expect(r.sent).toEqual([]);
    expect(r.state.text).toBe('one\ntwo\nthree\n');
    const up = feed(r.state, ['', { upArrow: true }], ['', { upArrow: true }]);
    expect(cursorPosition(up.state)).toMatchObject({ line: 1, col: 0 });
    expect(feed(up.state, ['x'], ENTER).sent).toEqual(['one\nxtwo\nthree']);
  });

  it('never sends a paste by itself: bracketed, or several characters with line breaks in one read', () => {
    let r = feed(emptyEditor(), ['[200~'], ['line one\rline two\r'], ['[201~']);
    expect(r.sent).toEqual([]);
    expect(r.state.text).toBe('line one\nline two\n');
    r = feed(emptyEditor(), ['a\r\nb\rc']);
    expect(r.sent).toEqual([]);
    expect(r.state.text).toBe('a\nb\nc');
    // Text typed and Enter in one read is a prompt sent.
    expect(feed(emptyEditor(), ['hello\r']).sent).toEqual(['hello']);
  });

  it('edits: backspace (DEL), cursor moves, line start and end, delete word and line', () => {
    let r = feed(emptyEditor(), ['hello world'], ['', { delete: true }], ['', { leftArrow: true }], ['X']);
    expect(r.state.text).toBe('hello worXl');
    r = feed(r.state, ['a', { ctrl: true }], ['>'], ['e', { ctrl: true }], ['w', { ctrl: true }]);
    expect(r.state.text).toBe('>hello ');
    r = feed(r.state, ['u', { ctrl: true }]);
    expect(r.state.text).toBe('');
    expect(feed(emptyEditor(), ENTER).sent).toEqual([]);
  });
});
