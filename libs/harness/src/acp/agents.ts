import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { ProviderEnv } from '../adapter';

/**
 * ACP agents Yoke knows by their command: each is started configured so that every tool call asks through
 * `session/request_permission` (so the policy engine decides before anything runs), with its config in the private
 * home only, its telemetry and update checks off, and its model endpoint pointed at the runner's (the egress proxy's,
 * inside Omnibox). An agent Yoke does not know runs as it is configured, and may run tools without asking.
 */
export type KnownAcpAgentName = 'gemini' | 'opencode';

export interface AcpAgentSetup {
  /** The agent command line to run (the given one plus the flags this agent needs). */
  argv: string[];
  /** Extra environment for the agent process (config paths, endpoint, key placeholder). */
  env: Record<string, string>;
  /** The agent takes the model from `argv`/config: the session's `model` config option is left alone. */
  modelApplied: boolean;
}

export interface AcpAgentContext {
  /** The private home directory (`$HOME` of the agent). */
  home: string;
  workspace: string;
  model: string | null;
  provider: ProviderEnv;
}

/** The npm package and the keys each known agent needs (docs and error messages). */
export const KNOWN_ACP_AGENTS: Record<
  KnownAcpAgentName,
  { package: string; harness: string; install: string; keys: string }
> = {
  gemini: {
    package: '@google/gemini-cli',
    harness: 'acp:gemini --acp',
    install: 'npm install -g @google/gemini-cli',
    keys: 'GEMINI_API_KEY (and GOOGLE_GEMINI_BASE_URL for another endpoint)',
  },
  opencode: {
    package: 'opencode-ai',
    harness: 'acp:opencode acp',
    install: 'npm install -g opencode-ai',
    keys: 'OPENAI_API_KEY (and OPENAI_BASE_URL for any OpenAI-compatible endpoint)',
  },
};

/** Which known agent a command is: by the program's name (`gemini`, `gemini.js`, `opencode`, `opencode.exe`). */
export function knownAcpAgent(argv: string[]): KnownAcpAgentName | null {
  const [program, ...rest] = argv;
  if (!program) return null;
  // `node /path/to/gemini.js --acp`: the script names the agent.
  const named = /^node(js)?$/.test(basename(program)) && rest[0] ? rest[0] : program;
  const name = basename(named).replace(/\.(m?js|exe)$/, '');
  return name === 'gemini' || name === 'opencode' ? name : null;
}

/** How a known agent is started in `home`: writes its config files there and returns its command line and env. */
export function setUpKnownAgent(name: KnownAcpAgentName, argv: string[], ctx: AcpAgentContext): AcpAgentSetup {
  return name === 'gemini' ? setUpGemini(argv, ctx) : setUpOpenCode(argv, ctx);
}

const GEMINI_DEFAULT_MODEL = 'gemini-2.5-pro';

/**
 * The Gemini CLI's admin policy and system settings, in Yoke's own install (src and dist both sit two levels below
 * the library's root). Inside Omnibox the install is bound read-only: an agent cannot loosen the rules that make it
 * ask, as it could if they were files in its home.
 */
export const GEMINI_ASSETS = join(__dirname, '..', '..', 'assets', 'gemini');

/**
 * Gemini CLI (`gemini --acp`). In ACP mode it asks `session/request_permission` for every call its policy engine
 * answers `ask_user`; an admin-tier policy (`--admin-policy`, above user and workspace policies) makes that every
 * tool. System-level settings (above the workspace's `.gemini/settings.json`) turn off "allow always" options,
 * telemetry, update checks and folder trust prompts. The endpoint is `GOOGLE_GEMINI_BASE_URL` ("gateway" auth with
 * `GEMINI_API_KEY`), which gemini reaches through HTTPS_PROXY and trusts with NODE_EXTRA_CA_CERTS inside Omnibox.
 */
function setUpGemini(argv: string[], ctx: AcpAgentContext): AcpAgentSetup {
  const root = join(ctx.home, '.gemini');
  mkdirSync(root, { recursive: true });
  // The system settings and the admin policy that govern the agent ship with Yoke (GEMINI_ASSETS), outside the home
  // it may write to; the user-level copy of the settings only spares it a first-run prompt.
  const policies = join(GEMINI_ASSETS, 'admin-policies');
  const system = join(GEMINI_ASSETS, 'system-settings.json');
  copyFileSync(system, join(root, 'settings.json'));
  const args = argv.slice(1).filter((a) => a !== '--experimental-acp' && a !== '--acp');
  const hasModel = args.some((a) => a === '-m' || a === '--model' || a.startsWith('--model='));
  const model = ctx.model ?? GEMINI_DEFAULT_MODEL;
  return {
    argv: [
      argv[0],
      ...args,
      '--acp',
      '--approval-mode',
      'default',
      '--admin-policy',
      policies,
      ...(hasModel ? [] : ['--model', model]),
    ],
    env: {
      GEMINI_CLI_HOME: ctx.home,
      GEMINI_CLI_SYSTEM_SETTINGS_PATH: system,
      GEMINI_CLI_NO_RELAUNCH: 'true',
      GEMINI_CLI_TRUST_WORKSPACE: 'true',
      GEMINI_TELEMETRY_ENABLED: 'false',
      ...(ctx.provider.geminiBaseUrl ? { GOOGLE_GEMINI_BASE_URL: ctx.provider.geminiBaseUrl } : {}),
      GEMINI_API_KEY: ctx.provider.geminiApiKey || 'yoke-no-key',
    },
    modelApplied: true,
  };
}

/** Every permission key OpenCode 1.18 knows: all `ask`, so each call goes through `session/request_permission`. */
const OPENCODE_PERMISSIONS = [
  'read',
  'edit',
  'glob',
  'grep',
  'list',
  'bash',
  'task',
  'skill',
  'lsp',
  'todoread',
  'todowrite',
  'webfetch',
  'websearch',
  'codesearch',
  'external_directory',
  'doom_loop',
];

/**
 * OpenCode (`opencode acp`). One provider, `yoke`, at the runner's OpenAI-compatible endpoint (bundled
 * `@ai-sdk/openai-compatible`); the key comes from an env var, never a file. Every permission is `ask`, set through
 * `OPENCODE_PERMISSION` (applied after project config, so a workspace `opencode.json` cannot allow a tool past it);
 * project config, default plugins (fetched from npm at run time), model list fetches, LSP downloads and update
 * checks are off; a refusal does not end the turn. XDG dirs are in the private home.
 */
function setUpOpenCode(argv: string[], ctx: AcpAgentContext): AcpAgentSetup {
  const xdg = {
    XDG_CONFIG_HOME: join(ctx.home, '.config'),
    XDG_DATA_HOME: join(ctx.home, '.local', 'share'),
    XDG_STATE_HOME: join(ctx.home, '.local', 'state'),
    XDG_CACHE_HOME: join(ctx.home, '.cache'),
  };
  for (const dir of Object.values(xdg)) mkdirSync(dir, { recursive: true });
  const model = ctx.model ?? 'gpt-5.5';
  const config = {
    $schema: 'https://opencode.ai/config.json',
    autoupdate: false,
    share: 'disabled',
    model: `yoke/${model}`,
    small_model: `yoke/${model}`,
    // A refused call is answered to the model (which goes on), as with every other harness; by default OpenCode
    // ends the turn on a refusal.
    experimental: { continue_loop_on_deny: true },
    provider: {
      yoke: {
        npm: '@ai-sdk/openai-compatible',
        name: 'Yoke',
        options: {
          baseURL: ctx.provider.openaiBaseUrl || 'https://api.openai.com/v1',
          apiKey: '{env:YOKE_OPENCODE_API_KEY}',
        },
        models: { [model]: { name: model } },
      },
    },
  };
  const file = join(xdg.XDG_CONFIG_HOME, 'opencode', 'opencode.json');
  mkdirSync(join(xdg.XDG_CONFIG_HOME, 'opencode'), { recursive: true });
  writeFileSync(file, JSON.stringify(config, null, 2));
  const args = argv.slice(1);
  return {
    argv: [argv[0], ...(args.includes('acp') ? args : ['acp', ...args])],
    env: {
      ...xdg,
      OPENCODE_CONFIG: file,
      OPENCODE_PERMISSION: JSON.stringify(Object.fromEntries(OPENCODE_PERMISSIONS.map((k) => [k, 'ask']))),
      OPENCODE_DISABLE_PROJECT_CONFIG: 'true',
      OPENCODE_DISABLE_DEFAULT_PLUGINS: 'true',
      OPENCODE_DISABLE_AUTOUPDATE: 'true',
      OPENCODE_DISABLE_MODELS_FETCH: 'true',
      OPENCODE_DISABLE_LSP_DOWNLOAD: 'true',
      OPENCODE_DISABLE_CLAUDE_CODE: 'true',
      OPENCODE_DISABLE_TERMINAL_TITLE: 'true',
      YOKE_OPENCODE_API_KEY: ctx.provider.openaiApiKey || 'yoke-no-key',
    },
    modelApplied: true,
  };
}
