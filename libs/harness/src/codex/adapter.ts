import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { HarnessAdapter, HarnessSession, HarnessStartOptions } from '../adapter';
import type { HarnessCapabilities } from '../capabilities';
import { missingModelKeyError } from '../model-keys';
import { OPENAI_DEFAULT_BASE_URL, resolveModel } from '../yoke/providers';
import { CliProcess, withTimeout } from './cli-process';
import { CodexSession } from './session';
import { ThreadStartResponse } from './protocol';

export interface CodexAdapterOptions {
  /** The codex executable; default: the native binary of the installed `@openai/codex` package. */
  command?: { command: string; args: string[] };
  /** How long `close()` waits after SIGTERM before SIGKILL. */
  killGraceMs?: number;
  /** How long codex may take to start and open its thread (default 30 s). */
  startTimeoutMs?: number;
  /** Retries of a failed model request / broken stream inside codex (codex's defaults are 4 and 5). */
  requestMaxRetries?: number;
  streamMaxRetries?: number;
}

const PLATFORM_PACKAGES: Record<string, { pkg: string; triple: string }> = {
  'linux-x64': { pkg: '@openai/codex-linux-x64', triple: 'x86_64-unknown-linux-musl' },
  'linux-arm64': { pkg: '@openai/codex-linux-arm64', triple: 'aarch64-unknown-linux-musl' },
  'darwin-x64': { pkg: '@openai/codex-darwin-x64', triple: 'x86_64-apple-darwin' },
  'darwin-arm64': { pkg: '@openai/codex-darwin-arm64', triple: 'aarch64-apple-darwin' },
};

/**
 * The codex binary from the installed npm package: the native executable of the platform package when present
 * (one process fewer, signals go straight to it), else the package's JS launcher run by this node.
 */
export function resolveCodexCommand(): { command: string; args: string[] } {
  const platform = PLATFORM_PACKAGES[`${process.platform}-${process.arch}`];
  if (platform) {
    try {
      const root = dirname(require.resolve(`${platform.pkg}/package.json`));
      const binary = join(root, 'vendor', platform.triple, 'bin', 'codex');
      if (existsSync(binary)) return { command: binary, args: [] };
    } catch {
      // fall back to the launcher
    }
  }
  const launcher = join(dirname(require.resolve('@openai/codex/package.json')), 'bin', 'codex.js');
  return { command: process.execPath, args: [launcher] };
}

const toml = (value: string): string => JSON.stringify(value);
const API_KEY_ENV = 'YOKE_CODEX_API_KEY';

/** config.toml for the private CODEX_HOME: the Yoke provider, and nothing that phones home. */
export function codexConfig(options: {
  model: string;
  baseUrl: string;
  webSearch: boolean;
  requestMaxRetries: number;
  streamMaxRetries: number;
}): string {
  return [
    `model = ${toml(options.model)}`,
    'model_provider = "yoke"',
    'check_for_update_on_startup = false',
    `web_search = ${options.webSearch ? '"live"' : '"disabled"'}`,
    '',
    '[analytics]',
    'enabled = false',
    '',
    '[features]',
    'plugins = false',
    '',
    '[model_providers.yoke]',
    'name = "Yoke"',
    `base_url = ${toml(options.baseUrl)}`,
    'wire_api = "responses"',
    `env_key = ${toml(API_KEY_ENV)}`,
    `request_max_retries = ${options.requestMaxRetries}`,
    `stream_max_retries = ${options.streamMaxRetries}`,
    '',
  ].join('\n');
}

/**
 * OpenAI Codex through `codex app-server` (JSON-RPC over stdio). Codex's own sandbox is off (Omnibox sandboxes the
 * whole tree) and its approval policy is `untrusted`, so every command and every patch comes back as an approval
 * request, which the permission hook answers.
 */
export class CodexAdapter implements HarnessAdapter {
  readonly name = 'codex';
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

  constructor(private readonly config: CodexAdapterOptions = {}) {}

  async start(options: HarnessStartOptions): Promise<HarnessSession> {
    const model = resolveModel(options.agent, options.model);
    const baseUrl = options.provider.openaiBaseUrl || OPENAI_DEFAULT_BASE_URL;
    if (baseUrl === OPENAI_DEFAULT_BASE_URL && !options.provider.openaiApiKey) {
      throw missingModelKeyError('OPENAI_API_KEY');
    }
    // TMPDIR must not contain CODEX_HOME, or codex refuses to set up its helpers; both live under stateDir.
    const root = join(options.stateDir, 'codex');
    const home = join(root, 'home');
    const codexHome = join(home, '.codex');
    const tmp = join(root, 'tmp');
    for (const dir of [codexHome, tmp]) mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(codexHome, 'config.toml'),
      codexConfig({
        model,
        baseUrl,
        webSearch: options.agent.tools.web,
        requestMaxRetries: this.config.requestMaxRetries ?? 2,
        streamMaxRetries: this.config.streamMaxRetries ?? 2,
      }),
    );
    const { command, args } = this.config.command ?? resolveCodexCommand();
    let session: CodexSession | null = null;
    const proc = new CliProcess(
      {
        command,
        args: [...args, 'app-server'],
        cwd: options.workspace,
        // `$HOME` is the whole codex state directory (CODEX_HOME and TMPDIR inside it), so a sandbox can bind it.
        home: root,
        launch: options.launch,
        codePaths: [dirname(command), ...args.map((a) => dirname(a))],
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          CODEX_HOME: codexHome,
          TMPDIR: tmp,
          LANG: process.env.LANG ?? 'C.UTF-8',
          [API_KEY_ENV]: options.provider.openaiApiKey || 'yoke-no-key',
        },
        killGraceMs: this.config.killGraceMs ?? 2000,
      },
      (line) => session?.onLine(line),
    );
    session = new CodexSession(proc, options);
    const open = async (live: CodexSession): Promise<void> => {
      await live.request('initialize', { clientInfo: { name: 'yoke', title: 'Yoke', version: '0.1.0' } });
      live.notify('initialized');
      const threadFile = join(root, 'thread.json');
      const thread = await this.openThread(live, options, model, threadFile);
      writeFileSync(threadFile, JSON.stringify({ threadId: thread.thread.id }));
      live.attach(thread.thread.id, thread.model);
    };
    try {
      await withTimeout(open(session), this.config.startTimeoutMs ?? 30_000, 'starting codex app-server');
    } catch (e) {
      await session.close();
      throw e;
    }
    return session;
  }

  /** Resumes the thread this session had (a runner restart), else starts one. */
  private async openThread(
    session: CodexSession,
    options: HarnessStartOptions,
    model: string,
    threadFile: string,
  ): Promise<ThreadStartResponse> {
    const params = {
      cwd: options.workspace,
      model,
      approvalPolicy: 'untrusted',
      sandbox: 'danger-full-access',
      developerInstructions: options.agent.prompt,
    };
    const saved = readThreadId(threadFile);
    if (saved) {
      try {
        return ThreadStartResponse.parse(await session.request('thread/resume', { ...params, threadId: saved }));
      } catch (e) {
        options.onEvent({
          kind: 'item',
          item: {
            type: 'notice',
            level: 'warning',
            text: `codex: could not resume the thread: ${(e as Error).message}`,
          },
        });
      }
    }
    return ThreadStartResponse.parse(await session.request('thread/start', { ...params, ephemeral: false }));
  }
}

function readThreadId(file: string): string | null {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { threadId?: unknown };
    return typeof parsed.threadId === 'string' ? parsed.threadId : null;
  } catch {
    return null;
  }
}
