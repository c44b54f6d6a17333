import type { HarnessAdapter, HarnessSession, HarnessStartOptions } from '../adapter';
import type { HarnessCapabilities } from '../capabilities';
import { startHostedSession } from '../host/hosted-session';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';

export interface OpenAIAgentsAdapterOptions {
  /** The agent-process script; default: `agent-process` next to this file (`.ts` from sources). */
  entry?: string;
  shellTimeoutMs?: number;
  /** How long `close()` waits after SIGTERM before SIGKILL. */
  killGraceMs?: number;
  /** How long the agent process may take to load the SDK (default 30 s). */
  startTimeoutMs?: number;
}

/**
 * The `openai-agents` harness: the YAML agent (prompt, shell and file tools) on the OpenAI Agents SDK, in a child
 * process started through the session's launcher so it can be sandboxed like any CLI harness.
 */
export class OpenAIAgentsAdapter implements HarnessAdapter {
  readonly name = 'openai-agents';
  readonly capabilities: HarnessCapabilities = {
    streaming: true,
    toolCalls: true,
    deny: true,
    ask: true,
    cost: true,
    interrupt: true,
    steer: false,
    resume: true,
    modelOverride: true,
  };

  constructor(private readonly config: OpenAIAgentsAdapterOptions = {}) {}

  start(options: HarnessStartOptions): Promise<HarnessSession> {
    const home = join(options.stateDir, 'openai-agents', 'home');
    mkdirSync(home, { recursive: true });
    return startHostedSession(options, {
      name: 'openai-agents',
      entry: this.config.entry ?? require.resolve('./agent-process'),
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        LANG: process.env.LANG ?? 'C.UTF-8',
        OPENAI_AGENTS_DISABLE_TRACING: '1',
        NODE_NO_WARNINGS: '1',
      },
      home,
      killGraceMs: this.config.killGraceMs ?? 2000,
      startTimeoutMs: this.config.startTimeoutMs ?? 30_000,
      shellTimeoutMs: this.config.shellTimeoutMs,
    });
  }
}
