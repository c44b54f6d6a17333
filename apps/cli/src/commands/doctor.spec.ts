import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setModelKey } from '../model-keys';
import type { HostFacts } from '../sandbox-prerequisites';
import { type DoctorCheck, doctorChecks, formatDoctorReport } from './doctor';

const debian: HostFacts = { osRelease: 'ID=debian\n', isRoot: false, sysctl: () => null };

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

const byName = (checks: DoctorCheck[], name: string): DoctorCheck => checks.find((c) => c.name === name)!;

describe('yoke doctor', () => {
  const savedPath = process.env.PATH;
  let home: string;
  let server: string;
  beforeEach(async () => {
    home = mkdtempSync(join(tmpdir(), 'yoke-doctor-'));
    server = `http://127.0.0.1:${await closedPort()}`;
    process.env.PATH = mkdtempSync(join(tmpdir(), 'yoke-empty-path-')); // no bwrap here
  });
  afterEach(() => {
    process.env.PATH = savedPath;
  });

  it('reports each missing piece with its fix, and which of them stop a turn', async () => {
    const checks = await doctorChecks({ home, defaultHome: home, server, env: {}, host: debian });
    expect(checks.map((c) => c.name)).toEqual([
      'server',
      'runner',
      'anthropic',
      'openai',
      'gemini',
      'sandbox',
      'disk',
      'claude-code',
      'codex',
      'pi',
    ]);
    expect(byName(checks, 'server')).toMatchObject({ ok: false, needed: true, fix: 'yoke start' });
    expect(byName(checks, 'server').detail).toContain(`${server} does not answer`);
    expect(byName(checks, 'runner')).toMatchObject({
      ok: false,
      needed: true,
      detail: 'not checked: no server answers',
    });
    expect(byName(checks, 'anthropic')).toMatchObject({
      ok: false,
      needed: true,
      detail: 'ANTHROPIC_API_KEY is not set (needed for Claude models)',
      fix: 'yoke keys set anthropic',
    });
    expect(byName(checks, 'openai')).toMatchObject({ ok: false, needed: true, fix: 'yoke keys set openai' });
    expect(byName(checks, 'gemini')).toMatchObject({
      ok: false,
      needed: true,
      detail: 'GEMINI_API_KEY is not set (needed for Gemini models: the Gemini CLI)',
      fix: 'yoke keys set gemini',
    });
    if (process.platform === 'linux') {
      expect(byName(checks, 'sandbox')).toMatchObject({
        ok: false,
        needed: true,
        detail: 'bwrap not found on PATH',
        fix: 'sudo apt install bubblewrap',
      });
    }
    expect(byName(checks, 'disk')).toMatchObject({ ok: true, needed: true });
    for (const harness of ['claude-code', 'codex', 'pi']) expect(byName(checks, harness).needed).toBe(false);

    const text = formatDoctorReport(checks);
    expect(text).toContain('✗ anthropic    ANTHROPIC_API_KEY is not set (needed for Claude models)\n');
    expect(text).toContain('               fix: yoke keys set anthropic\n');
    expect(text).toMatch(/✓ disk +\d+\.\d GB free in /);
    expect(text).toMatch(/\d problems to fix before a turn can run\.\n$/);
  });

  it('needs one provider: with a stored key the other one is reported, not required', async () => {
    setModelKey(home, 'anthropic', 'sk-ant');
    const checks = await doctorChecks({ home, defaultHome: home, server, env: { YOKE_SANDBOX: 'none' }, host: debian });
    expect(byName(checks, 'anthropic')).toMatchObject({
      ok: true,
      detail: `ANTHROPIC_API_KEY stored in ${join(home, 'keys.json')}`,
    });
    expect(byName(checks, 'openai')).toMatchObject({ ok: false, needed: false });
    expect(byName(checks, 'sandbox')).toMatchObject({ ok: true, detail: expect.stringContaining('YOKE_SANDBOX=none') });
    expect(JSON.stringify(checks)).not.toContain('sk-ant');
  });

  it('names --home in a fix for another home than the default', async () => {
    const checks = await doctorChecks({ home, defaultHome: '/elsewhere', server, env: {}, host: debian });
    expect(byName(checks, 'anthropic').fix).toBe(`yoke keys set anthropic --home ${home}`);
    expect(byName(checks, 'server').fix).toBe(`yoke start --home ${home}`);
  });
});
