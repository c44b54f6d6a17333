import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '@yoke/protocol';
import type { HarnessAdapter, HarnessSession, HarnessStartOptions } from '../adapter';
import type { HarnessCapabilities } from '../capabilities';
import { startHostedSession } from '../host/hosted-session';
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
  readonly capabilities: HarnessCapabilities = {
    streaming: true,
    toolCalls: true,
    deny: true,
    ask: true,
    cost: true,
    interrupt: true,
    steer: false,
    resume: false,
    modelOverride: true,
  };
  private readonly command: string[];

  constructor(
    harness: string,
    private readonly config: AcpAdapterOptions = {},
  ) {
    const command = acpCommand(harness);
    if (!command) throw new AppError('agent.invalid', `harness ${harness} names no ACP agent command (acp:<command>)`);
    this.name = harness;
    this.command = command;
  }

  start(options: HarnessStartOptions): Promise<HarnessSession> {
    const home = join(options.stateDir, 'acp', 'home');
    mkdirSync(home, { recursive: true });
    return startHostedSession(options, {
      name: `ACP client (${this.command[0]})`,
      entry: this.config.entry ?? require.resolve('./client-process'),
      args: this.command,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        LANG: process.env.LANG ?? 'C.UTF-8',
        NODE_NO_WARNINGS: '1',
      },
      home,
      codePaths: this.config.codePaths,
      killGraceMs: this.config.killGraceMs ?? 2000,
      startTimeoutMs: this.config.startTimeoutMs ?? 30_000,
    });
  }
}
