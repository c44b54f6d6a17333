import { spawn } from 'node:child_process';
import { findLocalServer, localCredential } from '../local-servers';

/** Hands `url` to the desktop's browser, detached; a machine without one (a server, a container) just has the URL. */
function openInBrowser(url: string): void {
  const opener = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(opener, [url], { detached: true, stdio: 'ignore' });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // no opener: the printed URL is the way in
  }
}

/**
 * `yoke open [--server URL]`: opens the web UI of a local server this user runs (the one at URL, else the one
 * running), signed in with its local credential; always prints the URL too.
 */
export function openCommand(opts: { server?: string }): number {
  const found = findLocalServer(opts.server);
  if (!found) {
    process.stderr.write(
      opts.server
        ? `yoke: no local Yoke server of yours runs at ${opts.server}\n`
        : 'yoke: no local Yoke server of yours is running; start one with `yoke start`\n',
    );
    return 1;
  }
  const secret = localCredential(found.home);
  const url = secret ? `${found.url}/?token=${encodeURIComponent(secret)}` : `${found.url}/`;
  process.stdout.write(`${url}\n`);
  openInBrowser(url);
  return 0;
}
