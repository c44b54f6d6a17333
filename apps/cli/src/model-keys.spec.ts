import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  keySource,
  keysFilePath,
  keysSetCommandLine,
  missingKeyFix,
  ModelKeysFileError,
  readModelKeys,
  recordModelEnv,
  runnerProvider,
  setModelKey,
  unsetModelKey,
} from './model-keys';

describe('model keys of a Yoke home', () => {
  let home: string;
  beforeEach(() => {
    home = join(mkdtempSync(join(tmpdir(), 'yoke-keys-')), 'home');
  });

  it('stores keys in <home>/keys.json, mode 0600 in a 0700 home, whatever the umask', () => {
    const saved = process.umask(0o000);
    try {
      setModelKey(home, 'anthropic', 'sk-ant-one');
    } finally {
      process.umask(saved);
    }
    const file = keysFilePath(home);
    expect(file).toBe(join(home, 'keys.json'));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(readModelKeys(home)).toEqual({ anthropic: 'sk-ant-one' });
  });

  it('keeps the other provider when one is set or unset, and removes the file with the last key', () => {
    setModelKey(home, 'anthropic', 'a-key');
    setModelKey(home, 'openai', '  o-key\n');
    expect(readModelKeys(home)).toEqual({ anthropic: 'a-key', openai: 'o-key' });
    expect(unsetModelKey(home, 'anthropic')).toBe(true);
    expect(unsetModelKey(home, 'anthropic')).toBe(false);
    expect(readModelKeys(home)).toEqual({ openai: 'o-key' });
    unsetModelKey(home, 'openai');
    expect(() => statSync(keysFilePath(home))).toThrow(/ENOENT/);
    expect(readModelKeys(home)).toEqual({});
  });

  it('refuses an empty key and one with spaces inside (a paste of more than the key)', () => {
    expect(() => setModelKey(home, 'openai', '   ')).toThrow('no key given');
    expect(() => setModelKey(home, 'openai', 'sk-1 sk-2')).toThrow(/no spaces/);
  });

  it('refuses a keys file others may read, and says the command that fixes it', () => {
    setModelKey(home, 'openai', 'o-key');
    chmodSync(keysFilePath(home), 0o644);
    expect(() => readModelKeys(home)).toThrow(ModelKeysFileError);
    expect(() => readModelKeys(home)).toThrow(`chmod 600 ${keysFilePath(home)}`);
  });

  it('refuses a file that is not a keys file, without printing what it holds', () => {
    setModelKey(home, 'openai', 'o-key');
    writeFileSync(keysFilePath(home), JSON.stringify({ openai: 'o-key', mistral: 'secret-value' }), { mode: 0o600 });
    let message = '';
    try {
      readModelKeys(home);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/is not a keys file/);
    expect(message).not.toContain('secret-value');
  });

  it('says where a key comes from, the environment first, never its value', () => {
    setModelKey(home, 'anthropic', 'stored');
    const stored = readModelKeys(home);
    expect(keySource('anthropic', { ANTHROPIC_API_KEY: 'env' }, stored, home)).toEqual({ kind: 'environment' });
    expect(keySource('anthropic', {}, stored, home)).toEqual({ kind: 'keys-file', file: keysFilePath(home) });
    expect(keySource('openai', { OPENAI_BASE_URL: 'http://u:p@127.0.0.1:9/v1' }, stored, home)).toEqual({
      kind: 'endpoint',
      baseUrl: 'http://127.0.0.1:9/v1',
    });
    expect(keySource('openai', {}, stored, home)).toEqual({ kind: 'missing' });
  });

  it("gives the local runner the environment's key, else the stored one, read again at each use", () => {
    const provider = runnerProvider(home, { OPENAI_API_KEY: 'from-env', ANTHROPIC_BASE_URL: 'http://127.0.0.1:1' });
    expect(provider.anthropicApiKey).toBeUndefined();
    expect(provider.openaiApiKey).toBe('from-env');
    expect(provider.anthropicBaseUrl).toBe('http://127.0.0.1:1');
    // Stored while Yoke runs: the next session start sees it, with no restart.
    setModelKey(home, 'anthropic', 'stored-later');
    expect(provider.anthropicApiKey).toBe('stored-later');
    setModelKey(home, 'openai', 'stored-openai');
    expect(provider.openaiApiKey).toBe('from-env');
  });

  it('stores a Gemini key for the Gemini CLI like the others, and takes its endpoint from GOOGLE_GEMINI_BASE_URL', () => {
    const provider = runnerProvider(home, { GOOGLE_GEMINI_BASE_URL: 'http://127.0.0.1:7' });
    expect(provider.geminiApiKey).toBeUndefined();
    expect(provider.geminiBaseUrl).toBe('http://127.0.0.1:7');
    setModelKey(home, 'gemini', ' g-key\n');
    expect(readModelKeys(home)).toMatchObject({ gemini: 'g-key' });
    expect(provider.geminiApiKey).toBe('g-key');
    expect(keySource('gemini', {}, readModelKeys(home), home)).toEqual({ kind: 'keys-file', file: keysFilePath(home) });
    unsetModelKey(home, 'gemini');
    expect(keySource('gemini', {}, readModelKeys(home), home)).toEqual({ kind: 'missing' });
  });

  it('records the names of the model variables of an environment, never the keys', () => {
    const record = recordModelEnv({ ANTHROPIC_API_KEY: 'sk-secret', OPENAI_BASE_URL: 'http://127.0.0.1:5/v1' });
    expect(record).toEqual({ keys: ['ANTHROPIC_API_KEY'], baseUrls: { OPENAI_BASE_URL: 'http://127.0.0.1:5/v1' } });
    expect(JSON.stringify(record)).not.toContain('sk-secret');
  });

  it('names the exact command that fixes a missing key, with --home only for another home', () => {
    expect(keysSetCommandLine('openai', '/h/.yoke', '/h/.yoke')).toBe('yoke keys set openai');
    expect(keysSetCommandLine('openai', '/data/my yoke', '/h/.yoke')).toBe(
      "yoke keys set openai --home '/data/my yoke'",
    );
    expect(missingKeyFix('/h/.yoke', '/h/.yoke', 'yoke start')('ANTHROPIC_API_KEY')).toBe(
      'run `yoke keys set anthropic` (no restart needed), or export ANTHROPIC_API_KEY where `yoke start` runs',
    );
  });
});
