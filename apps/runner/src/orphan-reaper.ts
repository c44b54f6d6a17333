import { type ChildProcess, spawn } from 'node:child_process';
import type { ProcessLauncher } from '@yoke/harness';

/**
 * The reaper: a tiny shell, in its own session, that reads `+PGID` / `-PGID` lines on stdin (a process group started,
 * a process group done) and, when stdin closes — this process ended, however it ended (SIGKILL included) — sends the
 * groups still listed SIGTERM, then SIGKILL two seconds later. A sandboxed harness needs none of this (bwrap
 * --die-with-parent); an unsandboxed one is a detached group leader that would otherwise outlive the runner.
 */
const REAPER_SCRIPT = `
trap '' INT HUP
live=' '
while IFS= read -r line; do
  case $line in
    +[0-9]*) live="$live\${line#+} " ;;
    -[0-9]*) rest=' '; for p in $live; do [ "$p" = "\${line#-}" ] || rest="$rest$p "; done; live=$rest ;;
  esac
done
[ -n "\${live# }" ] || exit 0
for p in $live; do kill -s TERM -- "-$p" 2>/dev/null; done
sleep 2
for p in $live; do kill -s KILL -- "-$p" 2>/dev/null; done
`;

let reaper: ChildProcess | null = null;

function tell(line: string): void {
  if (process.platform === 'win32') return;
  if (!reaper || reaper.exitCode !== null || reaper.signalCode !== null) {
    reaper = spawn('/bin/sh', ['-c', REAPER_SCRIPT], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    reaper.on('error', () => undefined);
    reaper.stdin?.on('error', () => undefined);
    reaper.unref(); // it never keeps the runner up; its stdin pipe is idle between lines
  }
  reaper.stdin?.write(`${line}\n`);
}

/**
 * Wraps a launcher whose children lead their own process groups (the direct, unsandboxed one) so that every group
 * still running when this process dies is killed by the reaper.
 */
export function reapedLauncher(launch: ProcessLauncher): ProcessLauncher {
  return (command, args, opts) => {
    const child = launch(command, args, opts);
    const pid = child.pid;
    if (pid !== undefined) {
      tell(`+${pid}`);
      // 'close': the leader exited and its stdio closed (no background member of the group still holds it).
      child.once('close', () => tell(`-${pid}`));
    }
    return child;
  };
}
