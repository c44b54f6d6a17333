import type { Item } from '@yoke/protocol';
import { ApiClient } from '../api-client';
import { TerminalRenderer } from '../render';
import { resolveServer, resolveToken } from '../server-discovery';
import { resumeHint, runChat } from '../tui/run-chat';

/**
 * `yoke attach SESSION`: in a terminal, the interactive session view (read-only for a viewer); with `--json`, or
 * when the output is not a terminal, the session's history and then everything live, printed until interrupted.
 */
export async function attachCommand(
  sessionId: string,
  opts: { server?: string; json?: boolean; deltas?: boolean; home?: string },
): Promise<number> {
  const api = new ApiClient(resolveServer(opts.server, opts.home), resolveToken());
  if (!opts.json && process.stdin.isTTY && process.stdout.isTTY) {
    const { sessionId: last } = await runChat(api, sessionId);
    process.stdout.write(resumeHint(last));
    return 0;
  }
  const renderer = new TerminalRenderer();
  return new Promise<number>((done) => {
    const follower = api.follow(sessionId, {
      onItem: (item: Item) => (opts.json ? process.stdout.write(`${JSON.stringify(item)}\n`) : renderer.item(item)),
      onDelta: !opts.json
        ? (d) => renderer.delta(d)
        : opts.deltas
          ? (delta) => process.stdout.write(`${JSON.stringify({ delta })}\n`)
          : undefined,
      onError: (error) => {
        process.stderr.write(`error: ${error.code}: ${error.message}\n`);
        follower.close();
        done(2);
      },
    });
    process.once('SIGINT', () => {
      follower.close();
      renderer.close();
      done(0);
    });
  });
}
