import { NS_RUNNER, PROTOCOL_VERSION } from '@yoke/protocol';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Client } from 'pg';
import { io } from 'socket.io-client';
import { createTestDatabase } from '../support/env';
import { runCli } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

/**
 * Runner credentials: one-time, expiring enrolment tokens from an admin; a credential hashed at rest and rotatable;
 * revoking a runner disconnects its socket at once (measured) and the runner stops; a runner whose credential is
 * refused for a moment after it had connected keeps retrying and comes back.
 */
let stack: Stack;
let db: { url: string; drop(): Promise<void> };

async function sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: db.url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** A /runner socket with this credential: resolves once connected, or with the refusal code. */
function runnerSocket(credential: string) {
  const socket = io(`${stack.url}${NS_RUNNER}`, {
    auth: { credential, protocolVersion: PROTOCOL_VERSION },
    transports: ['websocket'],
    reconnection: false,
  });
  const ready = new Promise<string>((resolve) => {
    socket.once('connect', () => resolve('connected'));
    socket.once('connect_error', (err: Error & { data?: { code?: string } }) => resolve(err.data?.code ?? err.message));
  });
  return { socket, ready };
}

async function enrol(token: string) {
  return stack.api<{ runnerId: string; credential: string; code?: string }>(
    'POST',
    '/runners/enrol',
    { token, name: 'r' },
    null,
  );
}

beforeAll(async () => {
  db = await createTestDatabase();
  stack = await startStack('team', { DATABASE_URL: db.url, YOKE_SECRET_KEY: randomBytes(32).toString('base64url') });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await db?.drop();
});

describe('runner credentials', () => {
  it('enrolment tokens work once, expire, and only admins create them; credentials are hashed at rest', async () => {
    const token = await stack.enrolmentToken();
    const first = await enrol(token);
    expect(first.status).toBe(201);
    const again = await enrol(token);
    expect(again.status).toBe(401);
    expect(again.body.code).toBe('runner.enrolment_invalid');

    const stale = await stack.enrolmentToken();
    await sql(`UPDATE runner_enrolments SET expires_at = now() - interval '1 second' WHERE token_hash = $1`, [
      sha(stale),
    ]);
    expect((await enrol(stale)).status).toBe(401);

    const [row] = await sql<{ credential_hash: string }>('SELECT credential_hash FROM runners WHERE id = $1', [
      first.body.runnerId,
    ]);
    expect(row.credential_hash).toBe(sha(first.body.credential));
    expect(JSON.stringify(await sql('SELECT * FROM runners'))).not.toContain(first.body.credential);

    const member = await stack.api<{ token: string }>('POST', '/tokens', { name: 'ro', scope: 'read' });
    const refused = await stack.api('POST', '/runners/enrolments', { name: 'x' }, member.body.token);
    expect(refused.status).toBe(403);
  });

  it("a runner's hello is answered only once it is recorded online, so a session can start as soon as it is", async () => {
    const { body } = await enrol(await stack.enrolmentToken());
    // The runner's row is held by another transaction: recording the connection waits for it.
    const holder = new Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM runners WHERE id = $1 FOR UPDATE', [body.runnerId]);
      const raw = runnerSocket(body.credential);
      expect(await raw.ready).toBe('connected');
      let answered = false;
      const hello = raw.socket
        .timeout(30_000)
        .emitWithAck('runner.hello', { sessions: [] })
        .then((r: { ok: boolean }) => ((answered = true), r));
      await new Promise((r) => setTimeout(r, 1_000));
      // Not answered while the runner is not yet online: a runner that reports itself connected can take work.
      expect(answered).toBe(false);
      await holder.query('COMMIT');
      expect((await hello).ok).toBe(true);
      const created = await stack.api<{ id: string }>('POST', '/sessions', {
        agentYaml: 'name: a\nprompt: p\nharness: yoke\nmodel: claude-sonnet-4-5\n',
      });
      expect(created.status).toBe(201);
      raw.socket.close();
    } finally {
      await holder.end();
    }
  });

  it('revoking a runner disconnects its socket within a second, and it cannot come back', async () => {
    const { body } = await enrol(await stack.enrolmentToken());
    const raw = runnerSocket(body.credential);
    expect(await raw.ready).toBe('connected');
    const gone = new Promise<number>((resolve) => raw.socket.once('disconnect', () => resolve(Date.now())));
    const t0 = Date.now();
    const del = await stack.api('DELETE', `/runners/${body.runnerId}`);
    expect(del.status).toBe(204);
    const elapsed = (await gone) - t0;
    process.stderr.write(`runner socket disconnected ${elapsed} ms after the revoke request was sent\n`);
    expect(elapsed).toBeLessThan(1000);
    expect(await runnerSocket(body.credential).ready).toBe('runner.revoked');
    expect((await stack.api('DELETE', `/runners/${body.runnerId}`)).status).toBe(404);
  });

  it('a revoked runner process stops', async () => {
    const runner = await stack.startRunner();
    const t0 = Date.now();
    expect((await stack.api('DELETE', `/runners/${runner.runnerId}`)).status).toBe(204);
    await runner.proc.waitForLine((l) => l.includes('disconnected from server'), 10_000);
    const elapsed = Date.now() - t0;
    process.stderr.write(`runner process saw its disconnect ${elapsed} ms after the revoke request was sent\n`);
    expect(elapsed).toBeLessThan(1000);
    await runner.proc.waitForLine((l) => l.includes('revoked by an org admin; stopping'), 15_000);
    expect(await runner.proc.exited).toBe(0);
  });

  it('a runner refused for a moment after it had connected retries and comes back; a rotated credential is picked up', async () => {
    const runner = await stack.startRunner();
    const [{ credential_hash: hash }] = await sql<{ credential_hash: string }>(
      'SELECT credential_hash FROM runners WHERE id = $1',
      [runner.runnerId],
    );
    // Auth goes away (the credential is unknown to the server for a while) and the runner is kicked off.
    await sql('UPDATE runners SET credential_hash = $1 WHERE id = $2', [sha('nothing'), runner.runnerId]);
    const connectedBefore = runner.proc.lines.filter((l) => l.includes('connected to server')).length;
    await stack.restartServer();
    await runner.proc.waitForLine((l) => l.includes('after it had connected; retrying'), 30_000);
    await sql('UPDATE runners SET credential_hash = $1 WHERE id = $2', [hash, runner.runnerId]);
    await runner.proc.waitForLine(
      () => runner.proc.lines.filter((l) => l.includes('connected to server')).length > connectedBefore,
      30_000,
    );
    expect(runner.proc.child.exitCode).toBeNull();

    // Rotation through the CLI: a new credential on disk; the old one works until the new one is first used.
    const rotated = await runCli(['runner', 'rotate', '--home', runner.home], stack.cliEnv);
    expect(rotated.stderr).toBe('');
    expect(rotated.code).toBe(0);
    const fresh = (JSON.parse(readFileSync(`${runner.home}/runner.json`, 'utf8')) as { credential: string }).credential;
    expect(fresh).not.toBe(runner.credential);
    const withNew = runnerSocket(fresh);
    expect(await withNew.ready).toBe('connected');
    withNew.socket.close();
    expect(await runnerSocket(runner.credential).ready).toBe('auth.invalid_token');
    // The running runner still holds the old one in memory: at its next reconnect it reloads the new one.
    const seen = runner.proc.lines.filter((l) => l.includes('connected to server')).length;
    await stack.restartServer();
    await runner.proc.waitForLine((l) => l.includes('stored runner credential changed'), 30_000);
    await runner.proc.waitForLine(
      () => runner.proc.lines.filter((l) => l.includes('connected to server')).length > seen,
      30_000,
    );
  });
});
