import type { Item } from '@yoke/protocol';
import { ApiClient } from '../api-client';
import { TerminalRenderer } from '../render';
import { resolveServer, resolveToken } from '../server-discovery';

/** `yoke attach SESSION`: the session's history, then everything live, until interrupted. */
export function attachCommand(
  sessionId: string,
  opts: { server?: string; json?: boolean; home?: string },
): Promise<number> {
  const api = new ApiClient(resolveServer(opts.server, opts.home), resolveToken());
  const renderer = new TerminalRenderer();
  return new Promise<number>((done) => {
    const follower = api.follow(sessionId, {
      onItem: (item: Item) => (opts.json ? process.stdout.write(`${JSON.stringify(item)}\n`) : renderer.item(item)),
      onDelta: opts.json ? undefined : (e) => renderer.delta(e),
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
