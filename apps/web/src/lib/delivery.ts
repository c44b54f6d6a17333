import type { Session } from '@yoke/protocol';

type RunnerState = Pick<Session, 'runnerName' | 'runnerRevoked'>;

/** What the composer says about a prompt the server stored but could not hand to the session's runner yet. */
export function undeliveredNote(runner: RunnerState | null): string {
  const name = runner?.runnerName ? `the runner ${runner.runnerName}` : 'the runner';
  if (runner?.runnerRevoked) return `Not delivered: ${name} was revoked: this prompt will not be delivered.`;
  return `Queued: it will be delivered when ${name} is back online.`;
}
