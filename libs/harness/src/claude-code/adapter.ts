import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { HarnessAdapter, HarnessSession, HarnessStartOptions, ProviderEnv } from '../adapter';
import type { HarnessCapabilities } from '../capabilities';
import { missingModelKeyError } from '../model-keys';
import { ANTHROPIC_DEFAULT_BASE_URL, resolveModel } from '../yoke/providers';
import { LaunchedProcess } from './process';
import { ClaudeCodeSession } from './session';
import { claudeMcpConfig, claudeToolNames } from './tools';

export interface ClaudeCodeAdapterOptions {
  /** The claude executable; default: the native binary of the installed `@anthropic-ai/claude-code`. */
  command?: { command: string; args: string[] };
  /** How long `close()` waits after SIGTERM before SIGKILL. */
  killGraceMs?: number;
  /** How long the CLI may take to start and answer the control handshake (default 30 s). */
  startTimeoutMs?: number;
  /** How long an interrupt may take before the CLI is killed and resumed on the next turn (default 5 s). */
  cancelGraceMs?: number;
  /** Retries of a failed model call inside the CLI (`CLAUDE_CODE_MAX_RETRIES`, default 2). */
  maxRetries?: number;
}

const PACKAGE = '@anthropic-ai/claude-code';

/** The native `claude` binary of the installed package (its postinstall links the platform binary to bin/claude.exe). */
export function resolveClaudeCommand(): { command: string; args: string[]; packageDir: string } {
  const packageDir = dirname(require.resolve(`${PACKAGE}/package.json`));
  const binary = join(packageDir, 'bin', 'claude.exe');
  if (!existsSync(binary)) throw new Error(`${PACKAGE} is installed without its binary (${binary})`);
  return { command: binary, args: [], packageDir };
}

/**
 * The environment of the CLI: the model endpoint and key, a private config dir, and everything that phones home off.
 * Nothing else of the runner's environment goes in.
 */
export function claudeEnv(home: string, provider: ProviderEnv, maxRetries: number): Record<string, string> {
  const baseUrl = provider.anthropicBaseUrl || ANTHROPIC_DEFAULT_BASE_URL;
  if (baseUrl === ANTHROPIC_DEFAULT_BASE_URL && !provider.anthropicApiKey) {
    throw missingModelKeyError('ANTHROPIC_API_KEY');
  }
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    LANG: process.env.LANG ?? 'C.UTF-8',
    HOME: home,
    CLAUDE_CONFIG_DIR: join(home, '.claude'),
    ANTHROPIC_BASE_URL: baseUrl,
    ANTHROPIC_API_KEY: provider.anthropicApiKey || 'yoke-no-key',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_ERROR_REPORTING: '1',
    DISABLE_BUG_COMMAND: '1',
    CLAUDE_CODE_MAX_RETRIES: String(maxRetries),
  };
}

/** What both Claude adapters were observed to support against the fake model (see their adapter specs). */
export const CLAUDE_CAPABILITIES: HarnessCapabilities = {
  streaming: true,
  toolCalls: true,
  deny: true,
  ask: true,
  cost: true,
  interrupt: true,
  // A `user` message sent on stdin mid-turn joins the turn only while a tool runs (folded into its result); one sent
  // while the model writes its final answer runs after the turn's `result`, so the turn could end without it.
  steer: false,
  resume: true,
  modelOverride: true,
};

/** The CLI flags of a session: headless bidirectional stream-json, every tool call through the stdio permission channel. */
export function claudeArgs(options: HarnessStartOptions, model: string, resume: string | null): string[] {
  const { agent } = options;
  const mcp = claudeMcpConfig(agent.tools.mcp);
  return [
    '-p',
    ...['--input-format', 'stream-json', '--output-format', 'stream-json', '--verbose', '--include-partial-messages'],
    ...['--permission-prompt-tool', 'stdio', '--permission-mode', 'default'],
    // No settings, hooks or MCP servers from the workspace or anywhere else: only what Yoke passes.
    ...['--setting-sources', '', '--strict-mcp-config'],
    ...(Object.keys(mcp.mcpServers).length > 0 ? ['--mcp-config', JSON.stringify(mcp)] : []),
    ...['--model', model, '--max-turns', String(agent.maxSteps)],
    ...['--append-system-prompt', agent.prompt],
    ...['--tools', claudeToolNames(agent.tools).join(',')],
    ...(resume ? ['--resume', resume] : []),
  ];
}

/**
 * Claude Code (`@anthropic-ai/claude-code`) in headless bidirectional stream-json mode. Each session has its own
 * config dir under the session's state dir, where the CLI keeps its transcript; a new runner process resumes it.
 */
export class ClaudeCodeAdapter implements HarnessAdapter {
  readonly name = 'claude-code';
  readonly capabilities = CLAUDE_CAPABILITIES;

  constructor(private readonly config: ClaudeCodeAdapterOptions = {}) {}

  async start(options: HarnessStartOptions): Promise<HarnessSession> {
    const model = resolveModel(options.agent, options.model);
    const root = join(options.stateDir, 'claude-code');
    const home = join(root, 'home');
    mkdirSync(join(home, '.claude'), { recursive: true });
    const env = claudeEnv(home, options.provider, this.config.maxRetries ?? 2);
    const resolved = this.config.command ?? resolveClaudeCommand();
    const codePaths: string[] = 'packageDir' in resolved ? [String(resolved.packageDir)] : [];
    const sessionFile = join(root, 'session.json');
    const spawn = (resume: string | null, onLine: (line: string) => void): LaunchedProcess =>
      new LaunchedProcess(
        resolved.command,
        [...resolved.args, ...claudeArgs(options, model, resume)],
        {
          cwd: options.workspace,
          env,
          home,
          codePaths,
          launch: options.launch,
          killGraceMs: this.config.killGraceMs ?? 2000,
        },
        onLine,
      );
    const config = {
      startTimeoutMs: this.config.startTimeoutMs ?? 30_000,
      cancelGraceMs: this.config.cancelGraceMs ?? 5000,
      sessionFile,
    };
    const saved = readSessionId(sessionFile);
    const session = new ClaudeCodeSession(options, model, spawn, config, saved);
    try {
      await session.open();
    } catch (e) {
      if (!saved) throw e;
      options.onEvent({
        kind: 'item',
        item: {
          type: 'notice',
          level: 'warning',
          text: `claude-code: could not resume the conversation: ${(e as Error).message}`,
        },
      });
      rmSync(sessionFile, { force: true });
      const fresh = new ClaudeCodeSession(options, model, spawn, config, null);
      await fresh.open();
      return fresh;
    }
    return session;
  }
}

function readSessionId(file: string): string | null {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { sessionId?: unknown };
    return typeof parsed.sessionId === 'string' ? parsed.sessionId : null;
  } catch {
    return null;
  }
}
