import { chmodSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { RunnerOptions } from '@yoke/runner';

/**
 * The model keys of a Yoke home: `<home>/keys.json` (mode 0600), written by `yoke keys set`, read by the runner of
 * `yoke start` (and of `yoke runner start`) at every session start, so a key stored while Yoke runs is used by the
 * next session without a restart. A key in the environment of `yoke start` wins over the file.
 */

export const MODEL_PROVIDERS = ['anthropic', 'openai', 'gemini'] as const;
export type ModelProvider = (typeof MODEL_PROVIDERS)[number];

/** The variable of each provider's key, and of its endpoint (an endpoint other than the vendor's needs no key). */
export const PROVIDER_VARS = {
  anthropic: { key: 'ANTHROPIC_API_KEY', baseUrl: 'ANTHROPIC_BASE_URL', label: 'Anthropic' },
  openai: { key: 'OPENAI_API_KEY', baseUrl: 'OPENAI_BASE_URL', label: 'OpenAI' },
  gemini: { key: 'GEMINI_API_KEY', baseUrl: 'GOOGLE_GEMINI_BASE_URL', label: 'Google Gemini' },
} as const satisfies Record<ModelProvider, { key: string; baseUrl: string; label: string }>;

type MissingKeyFix = NonNullable<RunnerOptions['missingKeyFix']>;
/** The key variables the runner reports missing (`@yoke/harness` names them). */
export type ModelKeyVar = Parameters<MissingKeyFix>[0];

export function isModelProvider(name: string): name is ModelProvider {
  return (MODEL_PROVIDERS as readonly string[]).includes(name);
}

export function providerOfKey(name: ModelKeyVar): ModelProvider {
  return MODEL_PROVIDERS.find((p) => PROVIDER_VARS[p].key === name) ?? 'anthropic';
}

const KEYS_FILE = 'keys.json';

const ModelKeysSchema = z.strictObject({
  anthropic: z.string().min(1).optional(),
  openai: z.string().min(1).optional(),
  gemini: z.string().min(1).optional(),
});
export type ModelKeys = z.infer<typeof ModelKeysSchema>;

/** The keys file cannot be used as it is; `fix` says what to do. */
export class ModelKeysFileError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly fix: string,
  ) {
    super(`${file} ${problem}: ${fix}`);
  }
}

export function keysFilePath(home: string): string {
  return join(home, KEYS_FILE);
}

/**
 * The keys stored in `home` ({} when there is no file). Throws `ModelKeysFileError` when the file is not a keys file
 * or others may read it: a key readable by other users is refused, as ssh refuses such a private key.
 */
export function readModelKeys(home: string): ModelKeys {
  const file = keysFilePath(home);
  let text: string;
  try {
    const st = lstatSync(file);
    if (!st.isFile()) throw new ModelKeysFileError(file, 'is not a regular file', `remove it (rm -r ${file})`);
    if ((st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8);
      throw new ModelKeysFileError(file, `may be read by other users (mode ${mode})`, `chmod 600 ${file}`);
    }
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ModelKeysFileError(file, 'is not JSON', `remove it, then store the keys again with \`yoke keys set\``);
  }
  const parsed = ModelKeysSchema.safeParse(json);
  if (!parsed.success) {
    const problem = `is not a keys file (${z.prettifyError(parsed.error).replace(/\n/g, ' ')})`;
    throw new ModelKeysFileError(file, problem, `remove it, then store the keys again with \`yoke keys set\``);
  }
  return parsed.data;
}

/** Replaces the keys file whole (a temp file of mode 0600, then a rename); removes it when no key is left. */
function writeModelKeys(home: string, keys: ModelKeys): void {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const file = keysFilePath(home);
  if (!MODEL_PROVIDERS.some((p) => keys[p])) {
    rmSync(file, { force: true });
    return;
  }
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600); // whatever the umask
    renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** A key must be one token: what a paste adds around it (spaces, a newline) is not part of it. */
export function normaliseKey(raw: string): string {
  const key = raw.trim();
  if (!key) throw new Error('no key given');
  if (/\s/.test(key)) throw new Error('a key has no spaces or line breaks in it; paste the key alone');
  return key;
}

export function setModelKey(home: string, provider: ModelProvider, value: string): void {
  writeModelKeys(home, { ...readModelKeys(home), [provider]: normaliseKey(value) });
}

/** Removes a stored key; false when there was none. */
export function unsetModelKey(home: string, provider: ModelProvider): boolean {
  const keys = readModelKeys(home);
  if (!keys[provider]) return false;
  const rest: ModelKeys = { ...keys };
  delete rest[provider];
  writeModelKeys(home, rest);
  return true;
}

/** Where a provider's key comes from for a runner started with `env` in `home`, never its value. */
export type KeySource =
  | { kind: 'environment' }
  | { kind: 'keys-file'; file: string }
  | { kind: 'endpoint'; baseUrl: string }
  | { kind: 'missing' };

export function keySource(provider: ModelProvider, env: NodeJS.ProcessEnv, stored: ModelKeys, home: string): KeySource {
  const vars = PROVIDER_VARS[provider];
  if (env[vars.key]) return { kind: 'environment' };
  if (stored[provider]) return { kind: 'keys-file', file: keysFilePath(home) };
  const baseUrl = env[vars.baseUrl];
  if (baseUrl) return { kind: 'endpoint', baseUrl: withoutCredentials(baseUrl) };
  return { kind: 'missing' };
}

function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

type ProviderEnv = NonNullable<RunnerOptions['provider']>;

/**
 * The model endpoints and keys of a local runner: the environment's, else the home's keys file, read again at every
 * use (each session start), so `yoke keys set` takes effect without a restart. A keys file that became unreadable
 * counts as no file; `yoke doctor` and `yoke keys list` say why.
 */
export function runnerProvider(home: string, env: NodeJS.ProcessEnv): ProviderEnv {
  const stored = (provider: ModelProvider): string | undefined => {
    try {
      return readModelKeys(home)[provider];
    } catch {
      return undefined;
    }
  };
  return {
    anthropicBaseUrl: env.ANTHROPIC_BASE_URL,
    openaiBaseUrl: env.OPENAI_BASE_URL,
    geminiBaseUrl: env.GOOGLE_GEMINI_BASE_URL,
    get anthropicApiKey() {
      return env.ANTHROPIC_API_KEY || stored('anthropic');
    },
    get openaiApiKey() {
      return env.OPENAI_API_KEY || stored('openai');
    },
    get geminiApiKey() {
      return env.GEMINI_API_KEY || stored('gemini');
    },
  };
}

/** The command that fixes a missing key for a runner of `home` (`--home` only when it is not the default one). */
export function keysSetCommandLine(provider: ModelProvider, home: string, defaultHome: string): string {
  return `yoke keys set ${provider}${home === defaultHome ? '' : ` --home ${shellWord(home)}`}`;
}

/**
 * What a runner started by `started` (`yoke start`, `yoke runner start`) says fixes a missing key: the exact command,
 * which needs no restart, or the variable in the environment of the command.
 */
export function missingKeyFix(home: string, defaultHome: string, started: string): MissingKeyFix {
  return (name) =>
    `run \`${keysSetCommandLine(providerOfKey(name), home, defaultHome)}\` (no restart needed), ` +
    `or export ${name} where \`${started}\` runs`;
}

function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** What `yoke start` records (in server.json) about the model variables of its environment: names, never keys. */
export const RecordedModelEnvSchema = z.object({
  keys: z.array(z.string()),
  baseUrls: z.record(z.string(), z.string()),
});
export type RecordedModelEnv = z.infer<typeof RecordedModelEnvSchema>;

export function recordModelEnv(env: NodeJS.ProcessEnv): RecordedModelEnv {
  const keys: string[] = [];
  const baseUrls: Record<string, string> = {};
  for (const p of MODEL_PROVIDERS) {
    const vars = PROVIDER_VARS[p];
    if (env[vars.key]) keys.push(vars.key);
    const base = env[vars.baseUrl];
    if (base) baseUrls[vars.baseUrl] = withoutCredentials(base);
  }
  return { keys, baseUrls };
}

/** The environment a recorded one stands for, with placeholder values: for `keySource`, which only looks at names. */
export function envFromRecord(record: RecordedModelEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...record.baseUrls };
  for (const k of record.keys) env[k] = 'set';
  return env;
}
