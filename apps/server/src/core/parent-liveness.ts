import { Socket } from 'node:net';
import type { Logger } from 'pino';

/** How long the server may take to stop once its parent is gone before it exits regardless. */
const DEFAULT_GRACE_MS = 3000;

/**
 * `yoke start` hands its server child one end of a pipe (the fd named by YOKE_PARENT_PIPE) and never writes to it.
 * The kernel closes the other end when the parent dies, however it dies (SIGKILL included): the read side then sees
 * end-of-file, and the server stops at once — `stop()` with a short grace, then exit — instead of living on as an
 * orphan that holds the port and the data directory.
 */
export function watchParentPipe(fd: number, stop: () => Promise<void>, opts: { log: Logger; graceMs?: number }): void {
  const pipe = new Socket({ fd, readable: true, writable: false });
  pipe.unref(); // the pipe alone never keeps the server up
  let gone = false;
  const onGone = (): void => {
    if (gone) return;
    gone = true;
    opts.log.warn('the parent process is gone: stopping');
    setTimeout(() => process.exit(1), opts.graceMs ?? DEFAULT_GRACE_MS).unref();
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        opts.log.error({ err }, 'stopping after the parent went away failed');
        process.exit(1);
      },
    );
  };
  pipe.on('data', () => undefined); // nothing is ever written; reading lets end-of-file arrive
  pipe.once('end', onGone);
  pipe.once('close', onGone);
  pipe.once('error', onGone);
}
