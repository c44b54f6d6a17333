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
  /**
   * The program is node and never waits synchronously on a child that uses the network (Yoke's own agent processes):
   * a sandbox may host its network bridge in the program's process instead of starting another.
   */
  hostsBridge?: boolean;
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

/** Proxy and CA settings a sandboxed launcher gives a harness process (Omnibox routes all traffic through its proxy). */
const NETWORK_ENV = [
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'ALL_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'all_proxy',
  'no_proxy',
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'REQUESTS_CA_BUNDLE',
  'CURL_CA_BUNDLE',
  'TMPDIR',
];

/**
 * The network settings of this process's environment that a process it starts itself (the Agent SDK's CLI, an ACP
 * agent) must inherit to reach the model from inside a sandbox; `NODE_OPTIONS` too for node children (the sandbox's
 * fetch preload). Empty outside a sandbox, where none of these are set by Yoke.
 */
export function inheritedNetworkEnv(env: NodeJS.ProcessEnv, opts: { node: boolean }): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of opts.node ? [...NETWORK_ENV, 'NODE_OPTIONS'] : NETWORK_ENV) {
    const value = env[key];
    if (value) out[key] = value;
  }
  return out;
}
