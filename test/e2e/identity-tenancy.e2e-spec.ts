import { NS_WEB, type Session } from '@yoke/protocol';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { io, type Socket } from 'socket.io-client';
import { createTestDatabase, expectEventually } from '../support/env';
import { tempDir } from '../support/processes';
import { type RunnerProc, type Stack, startStack } from '../support/stack';

/**
 * Two orgs side by side on one server: org B's owner (another person) cannot see or touch org A's sessions,
 * runners, policies or socket rooms. Everything of A answers B exactly as something that does not exist: 404,
 * never 403; and nothing of A reaches B's sockets.
 */
let stack: Stack;
let db: { url: string; drop(): Promise<void> };
let runnerA: RunnerProc;
let sessionA: Session;
let tokenB = '';
const sockets: Socket[] = [];

const AGENT = 'name: helper\nprompt: You help.\nharness: yoke\nmodel: claude-sonnet-4-5\n';
const POLICY_A = '- { type: deny_commands, name: a-only, patterns: ["git push"] }\n';

async function sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: db.url });
  await c.connect();
  try {
    return (await c.query(text, params)).rows as T[];
  } finally {
    await c.end();
  }
}

const asB = <T = { code?: string }>(method: string, path: string, body?: unknown) =>
  stack.api<T>(method, path, body, tokenB);

function web(token: string): Promise<Socket> {
  const s = io(`${stack.url}${NS_WEB}`, { auth: { token }, transports: ['websocket'], reconnection: false });
  sockets.push(s);
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  });
}

beforeAll(async () => {
  db = await createTestDatabase();
  stack = await startStack('team', { DATABASE_URL: db.url, YOKE_SECRET_KEY: randomBytes(32).toString('base64url') });
  runnerA = await stack.startRunner();
  const created = await stack.api<Session>('POST', '/sessions', {
    agentYaml: AGENT,
    workspace: tempDir('yoke-ws'),
    title: 'org A secret work',
  });
  expect(created.status).toBe(201);
  sessionA = created.body;
  expect((await stack.api('PUT', '/policies', { yaml: POLICY_A })).status).toBe(200);
  // Org B with its own owner, Bob (another person), and Bob's API token.
  const [org] = await sql<{ id: string }>(`INSERT INTO orgs (id, slug, name) VALUES ($1, 'org-b', 'B') RETURNING id`, [
    randomUUID(),
  ]);
  const [bob] = await sql<{ id: string }>(
    `INSERT INTO users (id, email, name) VALUES ($1, 'bob@b.example', 'Bob') RETURNING id`,
    [randomUUID()],
  );
  await sql(`INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'owner')`, [org.id, bob.id]);
  tokenB = `ykt_${randomBytes(24).toString('base64url')}`;
  await sql(`INSERT INTO api_tokens (id, org_id, user_id, name, token_hash) VALUES ($1, $2, $3, 'b', $4)`, [
    randomUUID(),
    org.id,
    bob.id,
    createHash('sha256').update(tokenB).digest('hex'),
  ]);
  expect((await asB<{ email: string }>('GET', '/me')).body.email).toBe('bob@b.example');
}, 180_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  await stack?.stop();
  await db?.drop();
});

/** A's resource answers B just as a random id does. */
async function sameAsMissing(method: string, path: (id: string) => string, realId: string, body?: unknown) {
  const strip = ({ status, body: b }: { status: number; body: unknown }) => {
    const { correlationId: _, ...rest } = (b ?? {}) as Record<string, unknown>;
    return { status, body: rest };
  };
  const real = strip(await asB(method, path(realId), body));
  const missing = strip(await asB(method, path(randomUUID()), body));
  expect(real.status).toBe(404);
  expect(real).toEqual(missing);
}

describe('two orgs side by side', () => {
  it('sessions: not listed, not readable, not drivable', async () => {
    const list = await asB<Session[] | { items: Session[] }>('GET', '/sessions');
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(sessionA.id);
    await sameAsMissing('GET', (id) => `/sessions/${id}`, sessionA.id);
    await sameAsMissing('GET', (id) => `/sessions/${id}/items`, sessionA.id);
    await sameAsMissing('POST', (id) => `/sessions/${id}/messages`, sessionA.id, { text: 'hi' });
    await sameAsMissing('POST', (id) => `/sessions/${id}/cancel`, sessionA.id, {});
    await sameAsMissing('GET', (id) => `/sessions/${id}/shares`, sessionA.id);
    // And A still sees it, unchanged.
    const own = await stack.api<Session>('GET', `/sessions/${sessionA.id}`);
    expect(own.status).toBe(200);
    expect(own.body.title).toBe('org A secret work');
  });

  it('runners: not listed, not revocable, not usable for a session', async () => {
    const list = await asB<unknown[]>('GET', '/runners');
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(runnerA.runnerId);
    await sameAsMissing('DELETE', (id) => `/runners/${id}`, runnerA.runnerId);
    const start = await asB('POST', '/sessions', { agentYaml: AGENT, runnerId: runnerA.runnerId });
    expect(start.status).toBe(404);
    expect(start.body.code).toBe('runner.not_found');
    // Without naming one, B has no runner at all: A's is not offered.
    const any = await asB('POST', '/sessions', { agentYaml: AGENT });
    expect(any.status).toBe(409);
    expect(any.body.code).toBe('runner.no_runner_available');
    expect(runnerA.proc.child.exitCode).toBeNull();
  });

  it('policies: each org reads and writes only its own', async () => {
    const b = await asB<{ yaml: string; version: number }>('GET', '/policies');
    expect(b.status).toBe(200);
    expect(b.body.yaml).not.toContain('a-only');
    const putB = await asB('PUT', '/policies', { yaml: '- { type: deny_commands, name: b-only, patterns: ["rm"] }\n' });
    expect(putB.status).toBe(200);
    const a = await stack.api<{ yaml: string }>('GET', '/policies');
    expect(a.body.yaml).toBe(POLICY_A);
    expect(a.body.yaml).not.toContain('b-only');
  });

  it("sockets: B cannot join A's session and hears nothing of A", async () => {
    const sa = await web(stack.token!);
    const sb = await web(tokenB);
    const joinB = (await sb.timeout(5000).emitWithAck('session.join', { sessionId: sessionA.id })) as {
      ok: boolean;
      error?: { code: string };
    };
    expect(joinB).toMatchObject({ ok: false, error: { code: 'session.not_found' } });
    expect(await sb.timeout(5000).emitWithAck('sessions.watch')).toMatchObject({ ok: true });
    expect(await sa.timeout(5000).emitWithAck('sessions.watch')).toMatchObject({ ok: true });
    const joinA = (await sa.timeout(5000).emitWithAck('session.join', { sessionId: sessionA.id })) as { ok: boolean };
    expect(joinA.ok).toBe(true);
    const heardByB: string[] = [];
    sb.onAny((event: string, payload: unknown) => {
      if (JSON.stringify(payload ?? null).includes(sessionA.id)) heardByB.push(event);
    });
    const heardByA: string[] = [];
    sa.onAny((event: string, payload: unknown) => {
      if (JSON.stringify(payload ?? null).includes(sessionA.id)) heardByA.push(event);
    });
    // Activity in A's session: A's sockets hear it (the control), B's never do.
    expect((await stack.api('POST', `/sessions/${sessionA.id}/messages`, { text: 'hello A' })).status).toBe(202);
    await expectEventually(() => heardByA.length > 0, 30_000);
    // Give B's socket the same chance: wait for one more event on A's side before looking.
    const before = heardByA.length;
    await stack.api('POST', `/sessions/${sessionA.id}/cancel`, {});
    await expectEventually(() => heardByA.length > before || heardByA.length >= 2, 30_000);
    expect(heardByB).toEqual([]);
  });
});
