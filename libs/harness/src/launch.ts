import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';

/** How an adapter starts a harness process. The runner passes a sandboxed launcher (Omnibox); tests may pass this one. */
export interface LaunchOptions {
  /** The working directory: the session workspace. */
  cwd: string;
  /** The child's whole environment: nothing of the runner's own environment leaks in unless listed here. */
  env: Record<string, string>;
  /** Host paths holding the program's own code and data (bound read-only inside a sandbox). */
  codePaths?: string[];
  /** The harness's private home/config directory on the host; `$HOME` inside. */
  home?: string;
}

/** Starts `command args` as the leader of its own process group, stdio piped, so the whole tree can be signalled. */
export type ProcessLauncher = (command: string, args: string[], opts: LaunchOptions) => ChildProcessWithoutNullStreams;

/** No sandbox: a plain detached child with exactly the given environment. */
export const directLauncher: ProcessLauncher = (command, args, opts) =>
  spawn(command, args, {
    cwd: opts.cwd,
    env: opts.home ? { ...opts.env, HOME: opts.home } : opts.env,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
