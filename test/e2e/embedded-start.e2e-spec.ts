import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Item, RunnerView } from '@yoke/protocol';
import { startFakeModel, type FakeModel } from '../fixtures/fake-model';
import { expectEventually } from '../support/env';
import { CLI_MAIN, freePort, Proc, runCli, tempDir } from '../support/processes';

/** `yoke start`: the embedded default — one loopback server with embedded Postgres, the web UI and a local runner. */
describe('yoke start (embedded default)', () => {
  let model: FakeModel;
  let start: Proc;
  let home: string;
  let url: string;
  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
    const e = { ...process.env, ...extra };
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
    url = line.match(/(http:\/\/127\.0\.0\.1:\d+)/)![1];
    expect(url).toBe(`http://127.0.0.1:${port}`);
  });

  afterAll(async () => {
    await start?.kill('SIGINT');
    await model?.close();
  });

  it('keeps its data under --home and announces itself to the CLI', () => {
    expect(existsSync(join(home, 'pgdata'))).toBe(true);
    expect(JSON.parse(readFileSync(join(home, 'server.json'), 'utf8'))).toMatchObject({ url });
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

  it('has a local runner online and runs `yoke run` against it with no login', async () => {
    const runners = await expectEventually(async () => {
      const r = (await (await fetch(`${url}/api/v1/runners`)).json()) as RunnerView[];
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
    // No --server and no token: the CLI finds the server through YOKE_HOME/server.json and needs no login.
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

  it('reports the server metrics it counted', async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const ingested = Number(text.match(/^yoke_items_ingested_total (\d+)/m)?.[1]);
    expect(ingested).toBeGreaterThan(0);
  });
});
