import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '@yoke/protocol';
import type { HarnessAdapter, HarnessSession, HarnessStartOptions } from '../adapter';
import type { HarnessCapabilities } from '../capabilities';
import { startHostedSession } from '../host/hosted-session';
import { resolveAcpCommand } from './agent-command';
import { knownAcpAgent } from './agents';
import { acpCommand } from './tools';

export interface AcpAdapterOptions {
  /** The client host script; default: `client-process` next to this file (`.ts` from sources). */
  entry?: string;
  /** How long `close()` waits after SIGTERM before SIGKILL. */
  killGraceMs?: number;
  /** How long the agent may take to start and open its session (default 30 s). */
  startTimeoutMs?: number;
  /** Host paths the agent command needs to read (its own install), for a sandboxed launcher. */
  codePaths?: string[];
}

/**
 * `acp:<command>`: any Agent Client Protocol agent. The ACP client runs in a child process started through the
 * session's launcher, and starts the agent command inside it, so client and agent share one sandbox and one tree.
 */
export class AcpAdapter implements HarnessAdapter {
  readonly name: string;
  /**
   * What an agent that asks before every tool call supports through this client (Yoke's test agent, and the known
   * agents, which are configured to ask). An unknown agent may run tools without asking: then `deny` and `ask` do
   * not hold for it, and its sessions say so at their first turn.
   */
  readonly capabilities: HarnessCapabilities;
  private readonly command: string[];

  constructor(
    harness: string,
    private readonly config: AcpAdapterOptions = {},
  ) {
    const command = acpCommand(harness);
    if (!command) throw new AppError('agent.invalid', `harness ${harness} names no ACP agent command (acp:<command>)`);
    this.name = harness;
    this.command = command;
    this.capabilities = {
      streaming: true,
      toolCalls: true,
      deny: true,
      ask: true,
      cost: true,
      interrupt: true,
      // ACP has no method that adds input to a running prompt turn.
      steer: false,
      resume: false,
      modelOverride: true,
    };
  }

  async start(options: HarnessStartOptions): Promise<HarnessSession> {
    const home = join(options.stateDir, 'acp', 'home');
    mkdirSync(home, { recursive: true });
    const path = process.env.PATH ?? '/usr/bin:/bin';
    // Found here, as the runner sees it; inside a sandbox only what is bound exists, so its install root is bound.
    const resolved = resolveAcpCommand(this.command, path);
    const known = knownAcpAgent(this.command);
    return startHostedSession(options, {
      name: `ACP client (${this.command[0]})`,
      entry: this.config.entry ?? require.resolve('./client-process'),
      args: resolved.argv,
      env: {
        PATH: path,
        LANG: process.env.LANG ?? 'C.UTF-8',
        NODE_NO_WARNINGS: '1',
        ...(known ? { YOKE_ACP_AGENT: known } : {}),
        YOKE_ACP_AGENT_PATHS: resolved.codePaths.join(':'),
      },
      home,
      codePaths: [...(this.config.codePaths ?? []), ...resolved.codePaths],
      killGraceMs: this.config.killGraceMs ?? 2000,
      // OpenCode takes 10-20 s to open its first session on a busy two-core machine.
      startTimeoutMs: this.config.startTimeoutMs ?? (known ? 120_000 : 30_000),
    });
  }
}
