import { type ChatAction, chatReducer, type ChatState, initialChatState } from './chat-state';

/** Streamed chunks are drawn at most this often. */
export const DELTA_FRAME_MS = 16;
/** Streamed chunks are drawn at most this often while the user types (Ink's own default rate); each key at once. */
export const TYPING_FRAME_MS = 33;
/** The user counts as typing until this long after their last key. */
export const TYPING_PAUSE_MS = 500;
/** What the session's feed says besides chunks (items, the session, who watches) waits at most this long to be drawn. */
export const ITEM_HOLD_MS = 12;

/** Actions that come from the session's feed, not from the user: drawn together, a few at a time. */
const HELD: ReadonlySet<ChatAction['type']> = new Set(['item', 'session', 'presence']);

/**
 * The chat state with subscribers, for React's `useSyncExternalStore`: every action is folded at once, and
 * listeners hear of streamed chunks at most once per frame rather than once per chunk.
 *
 * The frame has a leading edge: a chunk that arrives when no frame was drawn in the last `DELTA_FRAME_MS` is drawn
 * at once (so the first characters of an answer show without waiting), and the chunks that follow within the frame
 * are drawn together when it ends.
 *
 * Items are held for up to `ITEM_HOLD_MS`: a turn starts with several (the prompt, `turn_started`, the session's
 * status) a few milliseconds apart, each a full frame of the terminal, and the first chunk arriving while those frames
 * are drawn waited behind them. Held, they are drawn in one frame, with the first chunk when it comes within the
 * hold; a chunk never waits for them. The user's own actions (notes, blocks, `/harness`…) are drawn at once.
 *
 * Keys come first. Every frame redraws the whole live area (a long answer's tail fills the screen), and a key
 * waited behind the chunks' frames: a chunk frame that ends is drawn after the input already waiting (a key pressed
 * meanwhile is drawn first, and its frame shows those chunks too, so theirs is skipped), each key's frame counts as
 * the chunks' frame, and while the user types chunks are drawn at most every `TYPING_FRAME_MS`.
 */
export class ChatStore {
  private state: ChatState = initialChatState();
  private readonly listeners = new Set<() => void>();
  private frame: NodeJS.Timeout | null = null;
  private pending = false;
  private hold: NodeJS.Timeout | null = null;
  private draw: NodeJS.Immediate | null = null;
  private typedAt = -Infinity;

  readonly getState = (): ChatState => this.state;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  dispatch(action: ChatAction): void {
    this.state = chatReducer(this.state, action);
    if (HELD.has(action.type)) {
      this.hold ??= setTimeout(() => this.tell(), ITEM_HOLD_MS);
      return;
    }
    if (action.type !== 'delta') return this.tell();
    if (this.frame) {
      this.pending = true;
      return;
    }
    this.frame = setTimeout(() => this.frameEnded(), this.frameMs());
    this.tell();
  }

  /**
   * The user typed and the view draws it now, which draws the state as it is, held chunks included: they need no
   * frame of their own until a full frame from now.
   */
  typed(): void {
    this.typedAt = Date.now();
    this.pending = false;
    if (this.frame) clearTimeout(this.frame);
    this.frame = setTimeout(() => this.frameEnded(), this.frameMs());
  }

  close(): void {
    if (this.frame) clearTimeout(this.frame);
    if (this.hold) clearTimeout(this.hold);
    if (this.draw) clearImmediate(this.draw);
    this.frame = null;
    this.hold = null;
    this.draw = null;
    this.pending = false;
  }

  /** Draws the state as it is now, chunks held in the current frame and items held included. */
  private tell(): void {
    this.pending = false;
    if (this.hold) clearTimeout(this.hold);
    this.hold = null;
    for (const l of this.listeners) l();
  }

  private frameMs(): number {
    return Date.now() - this.typedAt < TYPING_PAUSE_MS ? TYPING_FRAME_MS : DELTA_FRAME_MS;
  }

  private frameEnded(): void {
    this.frame = null;
    if (!this.pending) return;
    this.frame = setTimeout(() => this.frameEnded(), this.frameMs());
    // After the input that waits now (timers run before the event loop reads input): a key's frame may draw these.
    this.draw ??= setImmediate(() => {
      this.draw = null;
      if (this.pending) this.tell();
    });
  }
}
