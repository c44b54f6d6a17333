import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { HarnessAdapter, HarnessSession, HarnessStartOptions } from '../adapter';
import type { HarnessCapabilities } from '../capabilities';
import { CLAUDE_CAPABILITIES } from '../claude-code/adapter';
import { startHostedSession } from '../host/hosted-session';

export interface ClaudeSdkAdapterOptions {
  /** The agent-process script; default: `agent-process` next to this file (`.ts` from sources). */
  entry?: string;
  /** How long `close()` waits after SIGTERM before SIGKILL. */
  killGraceMs?: number;
  /** How long the agent process may take to load the SDK (default 30 s). */
  startTimeoutMs?: number;
  /** How long an interrupt may take before the CLI is closed and resumed on the next turn (default 5 s). */
  cancelGraceMs?: number;
  /** Retries of a failed model call inside the CLI (`CLAUDE_CODE_MAX_RETRIES`, default 2). */
  maxRetries?: number;
}

/** Where the SDK's own native Claude Code binary lives (the platform package next to the SDK), when installed. */
function sdkBinaryPaths(): string[] {
  try {
    const sdk = dirname(require.resolve('@anthropic-ai/claude-agent-sdk/package.json', { paths: [__dirname] }));
    return [sdk, join(dirname(sdk), `claude-agent-sdk-${process.platform}-${process.arch}`)];
  } catch {
    return [];
  }
}

/**
 * The `claude-sdk` harness: the YAML agent on the Claude Agent SDK in a child process (started through the session's
 * launcher, so it is sandboxed like any CLI harness); permission through the SDK's `canUseTool` callback.
 */
export class ClaudeSdkAdapter implements HarnessAdapter {
  readonly name = 'claude-sdk';
  readonly capabilities: HarnessCapabilities = CLAUDE_CAPABILITIES;

  constructor(private readonly config: ClaudeSdkAdapterOptions = {}) {}

  start(options: HarnessStartOptions): Promise<HarnessSession> {
    const home = join(options.stateDir, 'claude-sdk', 'home');
    mkdirSync(join(home, '.claude'), { recursive: true });
    return startHostedSession(options, {
      name: 'claude-sdk',
      entry: this.config.entry ?? require.resolve('./agent-process'),
      args: [String(this.config.cancelGraceMs ?? 5000), String(this.config.maxRetries ?? 2)],
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        LANG: process.env.LANG ?? 'C.UTF-8',
        NODE_NO_WARNINGS: '1',
      },
      home,
      codePaths: sdkBinaryPaths(),
      killGraceMs: this.config.killGraceMs ?? 2000,
      startTimeoutMs: this.config.startTimeoutMs ?? 30_000,
    });
  }
}
