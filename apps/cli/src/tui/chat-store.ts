import { type ChatAction, chatReducer, type ChatState, initialChatState } from './chat-state';

/** Streamed chunks are drawn at most this often; everything else at once. */
const DELTA_FRAME_MS = 16;

/**
 * The chat state with subscribers, for React's `useSyncExternalStore`: every action is folded at once, and
 * listeners hear of a burst of streamed chunks once per frame rather than once per chunk.
 */
export class ChatStore {
  private state: ChatState = initialChatState();
  private readonly listeners = new Set<() => void>();
  private frame: NodeJS.Timeout | null = null;

  readonly getState = (): ChatState => this.state;

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  dispatch(action: ChatAction): void {
    this.state = chatReducer(this.state, action);
    if (action.type === 'delta') {
      this.frame ??= setTimeout(() => this.notify(), DELTA_FRAME_MS);
    } else {
      this.notify();
    }
  }

  close(): void {
    if (this.frame) clearTimeout(this.frame);
    this.frame = null;
  }

  private notify(): void {
    if (this.frame) clearTimeout(this.frame);
    this.frame = null;
    for (const l of this.listeners) l();
  }
}
