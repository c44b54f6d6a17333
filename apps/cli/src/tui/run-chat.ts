import type { ApiClient } from '../api-client';
import { ChatController } from './chat-controller';
import { ChatStore } from './chat-store';
import { createChatView } from './chat-view';
import { loadInk } from './ink-loader';

/** Turns on the terminal's bracketed paste: a pasted block arrives marked, so its line breaks never send it. */
const PASTE_ON = '\x1b[?2004h';
const PASTE_OFF = '\x1b[?2004l';

/**
 * Runs the interactive session view on this terminal until the user leaves; resolves with the session shown last
 * (`/fork` and `/attach` switch sessions).
 */
export async function runChat(api: ApiClient, sessionId: string): Promise<{ sessionId: string }> {
  const { ink, react } = await loadInk();
  const ChatView = createChatView(ink, react);
  const store = new ChatStore();
  return new Promise((resolve) => {
    let app: { unmount: () => void; waitUntilExit: () => Promise<unknown> } | null = null;
    const controller = new ChatController(api, store, () => {
      process.stdout.write(PASTE_OFF);
      app?.unmount();
      resolve({ sessionId: controller.sessionId });
    });
    process.stdout.write(PASTE_ON);
    // Opening first names the session before the first frame (the view keys its printed history by it).
    void controller.open(sessionId);
    // Ink draws each change as it comes (its own limit, 30 frames a second by default, held a streamed answer's first
    // characters behind the frame just drawn for an item or the spinner): the store paces the frames instead,
    // streamed chunks at most once per 16 ms and the feed's items a few together. (Ink's incremental rendering is not
    // used: it leaves stale lines behind when printed history grows above the live area.)
    app = ink.render(react.createElement(ChatView, { store, controller }), { exitOnCtrlC: false, maxFps: 1000 });
  });
}

/** What is printed on leaving: the session stays on the server, and how to come back to it. */
export function resumeHint(sessionId: string): string {
  return `\nThe session stays. Resume it with:\n  yoke chat --resume ${sessionId}\n`;
}
