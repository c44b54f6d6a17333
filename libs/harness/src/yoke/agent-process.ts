import { randomUUID } from 'node:crypto';
import type { Readable, Writable } from 'node:stream';
import type { DelegateResult, PermissionDecision } from '../adapter';
import { AgentLoop } from './agent-loop';
import { clip } from './diff';
import { type ChildMessage, ParentMessage, readMessages, writeMessage } from './ipc';
import { killAllShells } from './shell';

/**
 * The agent process of the `yoke` harness: runs one `AgentLoop`, driven by the parent over NDJSON on stdin, and
 * reports on stdout. It exits when stdin closes (the runner went away) or on SIGTERM, killing its shells first.
 */
export function runAgentProcess(input: Readable, output: Writable, exit: (code: number) => void): void {
  let loop: AgentLoop | null = null;
  let starting = false;
  const permissions = new Map<string, (decision: PermissionDecision) => void>();
  const delegations = new Map<string, (result: DelegateResult) => void>();
  const send = (message: ChildMessage): void => writeMessage(output, message);

  const shutdown = (): void => {
    loop?.cancel();
    killAllShells();
    exit(0);
  };

  const handle = (message: ParentMessage): void => {
    switch (message.type) {
      case 'start': {
        if (loop || starting) return;
        starting = true;
        AgentLoop.start({
          ...message.options,
          onEvent: (event) => send({ type: 'event', event }),
          permission: (request) =>
            new Promise<PermissionDecision>((resolve) => {
              const id = randomUUID();
              permissions.set(id, resolve);
              send({ type: 'permission', id, request });
            }),
          delegate: (request) =>
            new Promise<DelegateResult>((resolve) => {
              const id = randomUUID();
              delegations.set(id, resolve);
              send({ type: 'delegate', id, request });
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
        void (loop?.steer(message.input) ?? Promise.resolve(false)).then((accepted) =>
          send({ type: 'steer_result', id: message.id, accepted }),
        );
        return;
      case 'permission_result': {
        const resolve = permissions.get(message.id);
        permissions.delete(message.id);
        resolve?.(message.decision);
        return;
      }
      case 'delegate_result': {
        const resolve = delegations.get(message.id);
        delegations.delete(message.id);
        resolve?.(message.result);
        return;
      }
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
}

if (require.main === module) {
  runAgentProcess(process.stdin, process.stdout, (code) => process.exit(code));
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(signal, () => {
      killAllShells();
      process.exit(0);
    });
  }
}
