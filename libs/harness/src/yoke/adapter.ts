import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import type { HarnessAdapter, HarnessSession, HarnessStartOptions } from '../adapter';
import type { HarnessCapabilities } from '../capabilities';
import { agentProcessCommand, HostedSession } from '../host/hosted-session';

export interface YokeHarnessAdapterOptions {
  /**
   * The agent-process script. Default: `agent-process` next to this file — the compiled `.js` in `dist`, or the
   * `.ts` source when running from sources (jest), which is then run through the dev-only `ts-register.js` hook.
   */
  entry?: string;
  /** Per shell command, passed to the agent loop. */
  shellTimeoutMs?: number;
  /** How long `close()` waits after SIGTERM before SIGKILL. */
  killGraceMs?: number;
  /** How long the agent process may take to answer the start handshake (default 30 s). */
  startTimeoutMs?: number;
}

export { agentProcessCommand };

export function defaultAgentProcessEntry(): string {
  return require.resolve('./agent-process');
}

/** A launched (sandboxed) agent process gets only these of the runner's environment; the model comes in the start message. */
function launchEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'LANG', 'LC_ALL', 'TZ']) {
    const value = process.env[key];
    if (value) env[key] = value;
  }
  return env;
}

/** The built-in `yoke` harness: runs `AgentLoop` in a child process so a stuck tool or crash never takes the runner down. */
export class YokeHarnessAdapter implements HarnessAdapter {
  readonly name = 'yoke';
  readonly capabilities: HarnessCapabilities = {
    streaming: true,
    toolCalls: true,
    deny: true,
    ask: true,
    cost: true,
    interrupt: true,
    steer: true,
    resume: true,
    modelOverride: true,
  };

  constructor(private readonly config: YokeHarnessAdapterOptions = {}) {}

  async start(options: HarnessStartOptions): Promise<HarnessSession> {
    const entry = this.config.entry ?? defaultAgentProcessEntry();
    const child = options.launch
      ? options.launch(process.execPath, agentProcessCommand(entry), {
          cwd: options.workspace,
          env: launchEnv(),
          codePaths: [dirname(dirname(process.execPath)), join(__dirname, '..', '..')],
          home: options.stateDir,
          // Its shell tool runs commands asynchronously (shell.ts): it may host the sandbox's network bridge.
          hostsBridge: true,
        })
      : spawn(process.execPath, agentProcessCommand(entry), {
          cwd: options.workspace,
          // Unlaunched (tests, tools): the same private home a launcher gives, so its shells never read the user's profile.
          env: { ...process.env, HOME: options.stateDir },
          detached: true,
          stdio: ['pipe', 'pipe', 'pipe'],
        });
    return HostedSession.start(child, options, {
      name: 'yoke agent',
      killGraceMs: this.config.killGraceMs ?? 2000,
      startTimeoutMs: this.config.startTimeoutMs ?? 30_000,
      shellTimeoutMs: this.config.shellTimeoutMs,
    });
  }
}
