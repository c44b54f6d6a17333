import { resolve } from 'node:path';
import {
  isModelProvider,
  keysFilePath,
  MODEL_PROVIDERS,
  type ModelProvider,
  PROVIDER_VARS,
  readModelKeys,
  setModelKey,
  unsetModelKey,
} from '../model-keys';
import { readSecret } from '../secret-input';
import { readServerRecord } from '../server-record';
import { yokeHome } from '../server-discovery';

function providerArg(name: string): ModelProvider {
  if (isModelProvider(name)) return name;
  throw new Error(`unknown provider "${name}": use one of ${MODEL_PROVIDERS.join(', ')}`);
}

/**
 * `yoke keys set anthropic|openai|gemini [--home DIR]`: stores a model key in the home's keys file (0600), read without echo
 * from the terminal, or from stdin when it is not one. The runner of a running `yoke start` uses it from its next
 * session on.
 */
export async function keysSetCommand(name: string, o: { home?: string }): Promise<number> {
  const provider = providerArg(name);
  const home = resolve(yokeHome(o.home));
  const { key, label } = PROVIDER_VARS[provider];
  const value = await readSecret(`${label} API key (${key}; input hidden, Enter to finish): `);
  setModelKey(home, provider, value);
  process.stdout.write(`stored the ${label} key in ${keysFilePath(home)} (mode 0600)\n`);
  const running = readServerRecord(home);
  if (running?.modelEnv?.keys.includes(key)) {
    process.stdout.write(
      `note: the running \`yoke start\` has ${key} in its environment, which wins over this file; ` +
        'restart it without that variable to use the stored key\n',
    );
  } else if (running) {
    process.stdout.write(`the running \`yoke start\` uses it from its next session on; no restart needed\n`);
  }
  return 0;
}

/** `yoke keys unset anthropic|openai|gemini`: removes a stored key. */
export function keysUnsetCommand(name: string, o: { home?: string }): number {
  const provider = providerArg(name);
  const home = resolve(yokeHome(o.home));
  const removed = unsetModelKey(home, provider);
  process.stdout.write(
    removed
      ? `removed the ${PROVIDER_VARS[provider].label} key from ${keysFilePath(home)}\n`
      : `no ${PROVIDER_VARS[provider].label} key is stored in ${keysFilePath(home)}\n`,
  );
  return 0;
}

type KeyPlace = 'keys-file' | 'yoke-start-environment' | 'shell-environment';

interface KeyListing {
  provider: ModelProvider;
  variable: string;
  /** Where the key is set, in the order a local runner looks: a running `yoke start`'s environment wins. */
  setIn: KeyPlace[];
  /** An endpoint other than the vendor's (which needs no key), from the same places. */
  endpoint?: string;
}

const PLACE_TEXT: Record<KeyPlace, string> = {
  'yoke-start-environment': 'the environment of the running `yoke start`',
  'keys-file': 'the keys file',
  'shell-environment': "this shell's environment",
};

/** `yoke keys list [--json]`: which keys are set and where, never their values. */
export function keysListCommand(o: { home?: string; json?: boolean }): number {
  const home = resolve(yokeHome(o.home));
  const stored = readModelKeys(home);
  const running = readServerRecord(home);
  const listings: KeyListing[] = MODEL_PROVIDERS.map((provider) => {
    const { key, baseUrl } = PROVIDER_VARS[provider];
    const setIn: KeyPlace[] = [];
    if (running?.modelEnv?.keys.includes(key)) setIn.push('yoke-start-environment');
    if (stored[provider]) setIn.push('keys-file');
    if (process.env[key]) setIn.push('shell-environment');
    const endpoint = running?.modelEnv?.baseUrls[baseUrl] ?? process.env[baseUrl];
    return { provider, variable: key, setIn, ...(endpoint ? { endpoint } : {}) };
  });
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ keysFile: keysFilePath(home), keys: listings }, null, 2)}\n`);
    return 0;
  }
  for (const l of listings) {
    const where = l.setIn.length ? `set in ${l.setIn.map((p) => PLACE_TEXT[p]).join(', ')}` : 'not set';
    const endpoint = l.endpoint ? ` (endpoint ${l.endpoint})` : '';
    process.stdout.write(`${l.provider.padEnd(10)} ${l.variable.padEnd(18)} ${where}${endpoint}\n`);
  }
  process.stdout.write(`keys file: ${keysFilePath(home)}\n`);
  return 0;
}
