import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ProviderKind } from '@yoke/protocol';
import type { HarnessAdapter, HarnessSession, HarnessStartOptions, ProviderEnv } from '../adapter';
import type { HarnessCapabilities } from '../capabilities';
import { missingModelKeyError } from '../model-keys';
import { CliProcess, withTimeout } from '../codex/cli-process';
import { ANTHROPIC_DEFAULT_BASE_URL, OPENAI_DEFAULT_BASE_URL, resolveModel, selectProvider } from '../yoke/providers';
import { PI_GATE_EXTENSION } from './extension';
import { PiSession } from './session';
import { piToolNames } from './tools';

export interface PiAdapterOptions {
  /** The pi command; default: `dist/cli.js` of the installed `@mariozechner/pi-coding-agent`, run by this node. */
  command?: { command: string; args: string[] };
  /** How long `close()` waits after SIGTERM before SIGKILL. */
  killGraceMs?: number;
  /** How long pi may take to start and answer its first command (default 30 s). */
  startTimeoutMs?: number;
}

const PACKAGE = '@mariozechner/pi-coding-agent';
const API_KEY_ENV = 'YOKE_PI_API_KEY';

/**
 * Pi's CLI from the installed package. The package exports only an ESM entry (so `require.resolve` of it or of its
 * package.json fails); its folder is found along the same node_modules lookup paths `require` uses.
 */
export function resolvePiCommand(): { command: string; args: string[] } {
  for (const dir of require.resolve.paths(PACKAGE) ?? []) {
    const manifest = join(dir, PACKAGE, 'package.json');
    if (!existsSync(manifest)) continue;
    const { bin } = JSON.parse(readFileSync(manifest, 'utf8')) as { bin: { pi: string } };
    return { command: process.execPath, args: [join(dir, PACKAGE, bin.pi)] };
  }
  throw new Error(`${PACKAGE} is not installed on this runner`);
}

/** Pi's wire API names for Yoke's provider kinds. */
const PI_APIS: Record<ProviderKind, string> = {
  anthropic: 'anthropic-messages',
  'openai-responses': 'openai-responses',
  'openai-chat': 'openai-completions',
};

/** models.json with one provider, `yoke`, at the runner's endpoint; the key is read from an env var, never stored. */
export function piModelsConfig(model: string, kind: ProviderKind, provider: ProviderEnv): unknown {
  const anthropic = kind === 'anthropic';
  const baseUrl = anthropic
    ? provider.anthropicBaseUrl || ANTHROPIC_DEFAULT_BASE_URL
    : provider.openaiBaseUrl || OPENAI_DEFAULT_BASE_URL;
  const key = anthropic ? provider.anthropicApiKey : provider.openaiApiKey;
  if (baseUrl === (anthropic ? ANTHROPIC_DEFAULT_BASE_URL : OPENAI_DEFAULT_BASE_URL) && !key) {
    throw missingModelKeyError(anthropic ? 'ANTHROPIC_API_KEY' : 'OPENAI_API_KEY');
  }
  return {
    providers: {
      yoke: {
        baseUrl,
        api: PI_APIS[kind],
        apiKey: API_KEY_ENV,
        // OpenAI-compatible servers other than OpenAI often lack the developer role and reasoning effort.
        ...(kind === 'openai-chat' ? { compat: { supportsDeveloperRole: false, supportsReasoningEffort: false } } : {}),
        models: [
          { id: model, name: model, reasoning: false, input: ['text'], contextWindow: 200000, maxTokens: 16384 },
        ],
      },
    },
  };
}

/**
 * Pi (`pi --mode rpc`) with a generated gate extension: every tool call is asked of the permission hook through the
 * RPC extension UI sub-protocol. Pi has no permission system of its own; the extension is the only gate, and project
 * extensions are not discovered (`--no-extensions`), so nothing in the workspace can load code next to it.
 */
export class PiAdapter implements HarnessAdapter {
  readonly name = 'pi';
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

  constructor(private readonly config: PiAdapterOptions = {}) {}

  async start(options: HarnessStartOptions): Promise<HarnessSession> {
    const model = resolveModel(options.agent, options.model);
    const kind = selectProvider(model, options.agent.provider);
    const root = join(options.stateDir, 'pi');
    const home = join(root, 'home');
    const agentDir = join(home, '.pi', 'agent');
    const sessionDir = join(root, 'sessions');
    for (const dir of [agentDir, sessionDir]) mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(agentDir, 'models.json'),
      JSON.stringify(piModelsConfig(model, kind, options.provider), null, 2),
    );
    writeFileSync(
      join(agentDir, 'settings.json'),
      JSON.stringify({ enableInstallTelemetry: false, quietStartup: true }),
    );
    const gate = join(root, 'yoke-gate.js');
    writeFileSync(gate, PI_GATE_EXTENSION);

    const tools = piToolNames(options.agent.tools);
    const resume = readdirSync(sessionDir).some((f) => f.endsWith('.jsonl'));
    const { command, args } = this.config.command ?? resolvePiCommand();
    let session: PiSession | null = null;
    const proc = new CliProcess(
      {
        command,
        args: [
          ...args,
          ...['--mode', 'rpc', '--provider', 'yoke', '--model', model, '--session-dir', sessionDir],
          ...(resume ? ['--continue'] : []),
          ...['--no-extensions', '-e', gate, '--offline', '--append-system-prompt', options.agent.prompt],
          ...(tools.length > 0 ? ['--tools', tools.join(',')] : ['--no-tools']),
        ],
        cwd: options.workspace,
        // `$HOME` is the whole pi state directory (agent dir, sessions, gate extension), so a sandbox can bind it.
        home: root,
        launch: options.launch,
        codePaths: args.map((a) => dirname(a)),
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          PI_CODING_AGENT_DIR: agentDir,
          PI_OFFLINE: '1',
          PI_SKIP_VERSION_CHECK: '1',
          PI_TELEMETRY: '0',
          LANG: process.env.LANG ?? 'C.UTF-8',
          [API_KEY_ENV]:
            (kind === 'anthropic' ? options.provider.anthropicApiKey : options.provider.openaiApiKey) || 'yoke-no-key',
        },
        killGraceMs: this.config.killGraceMs ?? 2000,
      },
      (line) => session?.onLine(line),
    );
    session = new PiSession(proc, options, model);
    try {
      await withTimeout(session.ready(), this.config.startTimeoutMs ?? 30_000, 'starting pi');
    } catch (e) {
      await session.close();
      throw e;
    }
    return session;
  }
}
