import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setModelKey } from './model-keys';
import type { HostFacts } from './sandbox-prerequisites';
import { formatPreflightWarnings, startPreflight } from './start-preflight';

const debian: HostFacts = { osRelease: 'ID=debian\n', isRoot: false, sysctl: () => null };

describe('what `yoke start` checks while its server boots', () => {
  const savedPath = process.env.PATH;
  let home: string;
  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'yoke-preflight-'));
    // No bubblewrap on this PATH, whatever the machine has.
    process.env.PATH = mkdtempSync(join(tmpdir(), 'yoke-empty-path-'));
  });
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  const onLinux = process.platform === 'linux' ? it : it.skip;

  onLinux('warns that sessions cannot run without bubblewrap, with the one command that installs it', async () => {
    const warnings = await startPreflight(home, home, { ANTHROPIC_API_KEY: 'k' }, debian);
    expect(warnings).toEqual([
      {
        problem: 'harness sessions cannot run sandboxed here: bwrap not found on PATH',
        fix: 'sudo apt install bubblewrap',
      },
    ]);
    expect(formatPreflightWarnings(warnings)).toBe(
      'yoke: warning: harness sessions cannot run sandboxed here: bwrap not found on PATH\n' +
        '  fix: sudo apt install bubblewrap\n' +
        '  `yoke doctor` checks everything a turn needs.\n',
    );
  });

  it('warns when no model key reaches the runner, and not once one is stored or an endpoint is set', async () => {
    const env = { YOKE_SANDBOX: 'none' };
    expect(await startPreflight(home, home, env, debian)).toEqual([
      {
        problem: 'no model key: none of ANTHROPIC_API_KEY, OPENAI_API_KEY or GEMINI_API_KEY reaches the local runner',
        fix: 'yoke keys set anthropic (or openai, gemini); no restart needed',
      },
    ]);
    expect(await startPreflight(home, home, { ...env, OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' }, debian)).toEqual([]);
    setModelKey(home, 'openai', 'sk-o');
    expect(await startPreflight(home, home, env, debian)).toEqual([]);
  });

  it('says nothing of the sandbox when the runner runs without it on purpose (YOKE_SANDBOX=none)', async () => {
    expect(await startPreflight(home, home, { YOKE_SANDBOX: 'none', ANTHROPIC_API_KEY: 'k' }, debian)).toEqual([]);
    expect(formatPreflightWarnings([])).toBe('');
  });
});
