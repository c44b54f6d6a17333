import express from 'express';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webExport } from './web-export';

/** The web UI's export is served at the root, and never answers for the server's own paths. */
describe('webExport', () => {
  let dir: string;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'yoke-web-export-'));
    const file = (path: string, text: string) => {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    file('index.html', 'home page');
    file('session/index.html', 'session page');
    file('approvals.html', 'approvals page');
    // Files that would shadow the server's own routes if they were looked up.
    file('api/v1/sessions.html', 'shadowed');
    file('api/v1/index.html', 'shadowed');
    file('health.html', 'shadowed');
    file('metrics/index.html', 'shadowed');
    const app = express();
    app.use(webExport(dir, { apiPrefix: 'api/v1', unprefixed: ['health', 'ready', 'metrics'] }));
    app.use((req, res) => void res.status(404).send(`server route ${req.path}`));
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (path: string) => {
    const res = await fetch(base + path, { redirect: 'manual' });
    return { status: res.status, text: await res.text() };
  };

  it('serves the pages of the export, with and without .html', async () => {
    expect(await get('/')).toEqual({ status: 200, text: 'home page' });
    expect(await get('/session/')).toEqual({ status: 200, text: 'session page' });
    expect(await get('/approvals')).toEqual({ status: 200, text: 'approvals page' });
  });

  it("leaves the API, the probes and socket.io to the server's own routes", async () => {
    for (const path of ['/api/v1/sessions', '/api/v1', '/api/v1/', '/health', '/metrics', '/socket.io/x']) {
      expect(await get(path)).toEqual({ status: 404, text: `server route ${path}` });
    }
  });
});
