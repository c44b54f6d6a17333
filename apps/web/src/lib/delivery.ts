import type { Session } from '@yoke/protocol';

type RunnerState = Pick<Session, 'runnerName' | 'runnerRevoked'>;
type RunnerPresence = Pick<Session, 'runnerName' | 'runnerRevoked' | 'runnerOnline'>;

/** What the composer says about a prompt the server stored but could not hand to the session's runner yet. */
export function undeliveredNote(runner: RunnerState | null): string {
  const name = runnerNamed(runner);
  if (runner?.runnerRevoked) return `Not delivered: ${name} was revoked: this prompt will not be delivered.`;
  return `Queued: it will be delivered when ${name} is back online.`;
}

function runnerNamed(runner: Pick<Session, 'runnerName'> | null): string {
  return runner?.runnerName ? `the runner ${runner.runnerName}` : 'the runner';
}

/** Why a prompt waits in the timeline: its runner is offline (it will go), revoked (it never will), or taking it. */
export function queuedReason(runner: RunnerPresence | null): string {
  const name = runnerNamed(runner);
  if (runner?.runnerRevoked) return `Not delivered: ${name} was revoked`;
  if (!runner?.runnerOnline) return `Queued: ${name} is offline`;
  return `Queued: handing it to ${name}`;
}

/** What the composer says instead of offering Send when the session's runner can never take a prompt again. */
export function revokedRunnerNote(runner: RunnerState | null): string | null {
  if (!runner?.runnerRevoked) return null;
  return `${capitalize(runnerNamed(runner))} was revoked: a prompt sent here would never be delivered. Fork the session to go on with another runner.`;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
