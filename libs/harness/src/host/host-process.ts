import { randomUUID } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import type { HarnessEvent, PermissionDecision, PermissionHook, TurnInput, TurnOutcome } from '../adapter';
import { clip } from '../yoke/diff';
import { type ChildMessage, type ChildStartOptions, ParentMessage, readMessages, writeMessage } from '../yoke/ipc';
import { killAllShells } from '../yoke/shell';

/** An agent loop hosted in a child process: the SDK-specific part of an adapter. */
export interface HostedLoop {
  runTurn(input: TurnInput): Promise<TurnOutcome>;
  cancel(): void;
  /** Adds a message to the running turn; false when there is none or the loop cannot. Absent: it cannot. */
  steer?(input: TurnInput): Promise<boolean>;
  /** Releases what the loop holds (its own child processes) before the host exits. */
  close?(): Promise<void>;
}

export interface HostedLoopContext {
  options: ChildStartOptions;
  onEvent: (event: HarnessEvent) => void;
  permission: PermissionHook;
}

export type StartHostedLoop = (context: HostedLoopContext) => Promise<HostedLoop>;

/**
 * The child side of a hosted session: runs one loop, driven by the parent over NDJSON on stdin (`yoke/ipc`), and
 * reports on stdout. Exits when stdin closes (the runner went away) or on SIGTERM, after the loop has cleaned up.
 */
export function runHostProcess(
  input: Readable,
  output: Writable,
  exit: (code: number) => void,
  startLoop: StartHostedLoop,
): { shutdown: () => void } {
  let loop: HostedLoop | null = null;
  let starting = false;
  let stopping = false;
  const permissions = new Map<string, (decision: PermissionDecision) => void>();
  const send = (message: ChildMessage): void => writeMessage(output, message);

  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    loop?.cancel();
    killAllShells();
    const done = (): void => exit(0);
    if (loop?.close) loop.close().then(done, done);
    else done();
  };

  const handle = (message: ParentMessage): void => {
    switch (message.type) {
      case 'start': {
        if (loop || starting) return;
        starting = true;
        startLoop({
          options: message.options,
          onEvent: (event) => send({ type: 'event', event }),
          permission: (request) =>
            new Promise<PermissionDecision>((resolve) => {
              const id = randomUUID();
              permissions.set(id, resolve);
              send({ type: 'permission', id, request });
            }),
        }).then(
          (started) => {
            loop = started;
            send({ type: 'ready' });
          },
          (e: unknown) => send({ type: 'start_failed', message: (e as Error).message }),
        );
        return;
      }
      case 'turn': {
        if (!loop) {
          send({ type: 'turn_error', message: 'the agent process has not started' });
          return;
        }
        loop.runTurn(message.input).then(
          (outcome) => send({ type: 'turn_done', outcome }),
          (e: unknown) => send({ type: 'turn_error', message: (e as Error).message }),
        );
        return;
      }
      case 'cancel':
        loop?.cancel();
        return;
      case 'steer':
        void (loop?.steer?.(message.input) ?? Promise.resolve(false)).then(
          (accepted) => send({ type: 'steer_result', id: message.id, accepted }),
          () => send({ type: 'steer_result', id: message.id, accepted: false }),
        );
        return;
      case 'permission_result': {
        const resolve = permissions.get(message.id);
        permissions.delete(message.id);
        resolve?.(message.decision);
        return;
      }
      case 'delegate_result':
        // Hosted SDK agents never ask to delegate, so no answer is awaited.
        return;
    }
  };

  readMessages(input, ParentMessage, handle, (_line, error) =>
    send({
      type: 'event',
      event: {
        kind: 'item',
        item: { type: 'notice', level: 'error', text: clip(`agent process: bad input: ${error}`, 3000) },
      },
    }),
  );
  input.on('end', shutdown);
  input.on('close', shutdown);
  return { shutdown };
}

/** The `main` of a host script: stdio wiring and signals. */
export function hostMain(startLoop: StartHostedLoop): void {
  const { shutdown } = runHostProcess(process.stdin, process.stdout, (code) => process.exit(code), startLoop);
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(signal, shutdown);
}
