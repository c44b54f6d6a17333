import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Item, RunnerView } from '@yoke/protocol';
import { startFakeModel, type FakeModel } from '../fixtures/fake-model';
import { launchBrowser } from '../support/browser';
import { expectEventually } from '../support/env';
import { CLI_MAIN, freePort, Proc, runCli, tempDir } from '../support/processes';

/** `yoke start`: the embedded default — one loopback server with embedded Postgres, the web UI and a local runner. */
describe('yoke start (embedded default)', () => {
  let model: FakeModel;
  let start: Proc;
  let home: string;
  let url: string;
  /** The link `yoke start` printed: the URL carrying the local credential once. */
  let link: string;
  let secret: string;
  const runtimeDir = tempDir('yoke-run');
  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = { ...process.env, YOKE_RUNTIME_DIR: runtimeDir, ...extra };
    for (const k of ['DATABASE_URL', 'REDIS_URL', 'YOKE_TOKEN', 'YOKE_SERVER']) delete e[k];
    return e;
  };

  beforeAll(async () => {
    model = await startFakeModel();
    home = tempDir('yoke-home');
    const port = await freePort();
    start = new Proc(
      spawn(process.execPath, [CLI_MAIN, 'start', '--port', String(port), '--home', home], {
        env: env({ ANTHROPIC_BASE_URL: model.anthropicBaseUrl, ANTHROPIC_API_KEY: 'k' }),
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    const line = await start.waitForLine((l) => l.includes('Yoke is running at'), 90_000);
    link = line.match(/(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)/)![1];
    url = new URL(link).origin;
    secret = new URL(link).searchParams.get('token')!;
    expect(url).toBe(`http://127.0.0.1:${port}`);
  });

  afterAll(async () => {
    await start?.kill('SIGINT');
    await model?.close();
  });

  it('keeps its data under --home, its local credential in a 0600 file, and announces itself to the CLI', () => {
    expect(existsSync(join(home, 'pgdata'))).toBe(true);
    expect(JSON.parse(readFileSync(join(home, 'server.json'), 'utf8'))).toMatchObject({ url });
    expect(readFileSync(join(home, 'local-token'), 'utf8').trim()).toBe(secret);
    expect(statSync(join(home, 'local-token')).mode & 0o777).toBe(0o600);
  });

  it('serves nobody without the credential, whatever the Host', async () => {
    expect((await fetch(`${url}/api/v1/runners`)).status).toBe(401);
    expect((await fetch(`http://localhost:${new URL(url).port}/api/v1/runners`)).status).toBe(401);
  });

  it('serves the web UI, health and metrics from the same port', async () => {
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    expect((await fetch(`${url}/session/`)).status).toBe(200);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect((await fetch(`${url}/ready`)).status).toBe(200);
    expect(await (await fetch(`${url}/metrics`)).text()).toContain('yoke_items_ingested_total');
  });

  it("leaves a share link to the join page: its token is the link's, not the local credential", async () => {
    const join = await fetch(`${url}/join/?token=yks_not-the-local-credential`, { redirect: 'manual' });
    expect(join.status).toBe(200);
    expect(join.headers.get('set-cookie')).toBeNull();
    expect(await join.text()).not.toContain("does not hold this Yoke's local credential");
    // Any other page with a wrong token is still refused.
    expect((await fetch(`${url}/?token=yks_not-the-local-credential`, { redirect: 'manual' })).status).toBe(401);
  });

  it('has a local runner online and runs `yoke run` against it with no login', async () => {
    const runners = await expectEventually(async () => {
      const res = await fetch(`${url}/api/v1/runners`, { headers: { authorization: `Bearer ${secret}` } });
      const r = (await res.json()) as RunnerView[];
      return r.some((x) => x.online) ? r : null;
    });
    expect(runners).toHaveLength(1);
    model.script([
      {
        match: 'EMBEDDED',
        steps: [
          { toolCalls: [{ name: 'write_file', input: { path: 'note.md', content: '# hi\n' } }] },
          { text: 'Saved note.md.' },
        ],
      },
    ]);
    const ws = tempDir('yoke-ws');
    writeFileSync(join(ws, 'agent.yaml'), 'name: notes\nprompt: Take notes.\nmodel: claude-sonnet-4-5\n');
    // No --server and no token: the CLI finds the server and its local credential through YOKE_HOME; no login.
    const out = await runCli(
      ['run', join(ws, 'agent.yaml'), 'EMBEDDED please', '--json', '--workspace', ws],
      env({ YOKE_HOME: home }),
      120_000,
    );
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    const items = out.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Item);
    expect(items.map((i) => i.type)).toContain('file_change');
    expect(items[items.length - 1].type).toBe('turn_completed');
    expect(readFileSync(join(ws, 'note.md'), 'utf8')).toBe('# hi\n');
  });

  it('lets the same OS user attach from any directory and any home, with no extra step', async () => {
    const r = await fetch(`${url}/api/v1/sessions`, { headers: { authorization: `Bearer ${secret}` } });
    const sessionId = ((await r.json()) as { sessions: { id: string }[] }).sessions[0].id;
    // Another home (no server.json there): the per-user index of local servers leads to the credential.
    const elsewhere = env({ YOKE_HOME: tempDir('yoke-other-home') });
    const attached = await runCli(['attach', sessionId, '--json', '--server', url], elsewhere, 60_000, (out) =>
      out.includes('"turn_completed"'),
    );
    expect(attached.stdout).toContain('"turn_completed"');
    const opened = await runCli(['open'], elsewhere, 30_000);
    expect([opened.code, opened.stdout.trim()]).toEqual([0, link]);
    // Without the credential (another OS user's view: no index, no home), the same server says what is missing.
    const stranger = await runCli(
      ['attach', sessionId, '--json', '--server', url],
      env({ YOKE_HOME: tempDir('yoke-stranger'), YOKE_RUNTIME_DIR: tempDir('yoke-stranger-run') }),
      60_000,
    );
    expect(stranger.code).not.toBe(0);
    expect(stranger.stderr).toContain('local credential');
  });

  it('opens the web UI at the printed link, signed in as the local user', async () => {
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(link);
      expect(page.url()).toBe(`${url}/`);
      await page.getByTestId('session-row').first().waitFor();
      expect(await page.getByText('local credential').count()).toBe(0);
    } finally {
      await browser.close();
    }
  });

  it('reports the server metrics it counted', async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const ingested = Number(text.match(/^yoke_items_ingested_total (\d+)/m)?.[1]);
    expect(ingested).toBeGreaterThan(0);
  });
});
