import { Client } from 'pg';
import { io, type Socket } from 'socket.io-client';
import {
  type AgentValidation,
  type AuditEventsPage,
  type EnrolReply,
  type Enrolment,
  type ErrorBody,
  type ExampleAgentList,
  type InboxEntry,
  type LibraryAgent,
  type LibraryAgentList,
  type LibraryAgentVersionList,
  NS_RUNNER,
  PROTOCOL_VERSION,
  type Session,
} from '@yoke/protocol';
import { type ApiProcess, startApiProcess } from '../audit/support/api-process';
import { seedOrg, seedPerson, type SeededPerson } from '../audit/support/e2e-fixtures';
import { expectEventually } from '../support/env';
import { migratedDatabase } from '../support/factories';

const REVIEWER = 'name: reviewer\nprompt: You review diffs.\nharness: claude-code\nmodel: claude-sonnet-4-5\n';
const REVIEWER_V2 = 'name: reviewer\nprompt: You review diffs, strictly.\nharness: codex\nmodel: gpt-5\n';

/**
 * The org agent library against a real Postgres and the real API (a child process, team mode): two orgs, each person
 * with an API token. Saves are versions; bad YAML is a located `agent.invalid` and stores nothing; another org's agent
 * is a 404; auditors read, members save, only the author or an admin changes; each change is in the audit log; and a
 * session starts from a saved agent (a version of it, with a harness override) on the org's runner.
 */
describe('agent library (real Postgres, real API)', () => {
  let db: Awaited<ReturnType<typeof migratedDatabase>>;
  let sql: Client;
  let api: ApiProcess;
  let orgA = '';
  let ada: SeededPerson; // admin of A
  let mia: SeededPerson; // member of A
  let max: SeededPerson; // member of A
  let otto: SeededPerson; // auditor of A
  let bea: SeededPerson; // admin of B
  let runner: Socket;
  const received: InboxEntry[] = [];

  async function call<T>(method: string, path: string, token: string | null, body?: unknown) {
    const res = await fetch(`${api.url}/api/v1${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  }

  /** What is stored for org A: agents with their latest version, and every version row. */
  async function stored() {
    const agents = await sql.query<{ name: string; latest_version: number }>(
      'SELECT name, latest_version FROM agents WHERE org_id = $1 ORDER BY name',
      [orgA],
    );
    const versions = await sql.query<{ n: string }>('SELECT count(*) AS n FROM agent_versions WHERE org_id = $1', [
      orgA,
    ]);
    return { agents: agents.rows, versions: Number(versions.rows[0].n) };
  }

  async function auditActions(prefix: string): Promise<AuditEventsPage['events']> {
    const page = await call<AuditEventsPage>('GET', `/audit/events?limit=500`, ada.token);
    expect(page.status).toBe(200);
    return page.body.events.filter((e) => e.event.action.startsWith(prefix));
  }

  async function save(who: SeededPerson, yaml: string): Promise<LibraryAgent> {
    const r = await call<LibraryAgent>('POST', '/agents', who.token, { yaml });
    expect(r.status).toBe(201);
    return r.body;
  }

  beforeAll(async () => {
    db = await migratedDatabase();
    sql = new Client({ connectionString: db.url });
    await sql.connect();
    api = await startApiProcess(db.url);
    const tag = Date.now().toString(36);
    orgA = await seedOrg(sql, `lib-a-${tag}`);
    const orgB = await seedOrg(sql, `lib-b-${tag}`);
    ada = await seedPerson(sql, orgA, 'admin', 'Ada');
    mia = await seedPerson(sql, orgA, 'member', 'Mia');
    max = await seedPerson(sql, orgA, 'member', 'Max');
    otto = await seedPerson(sql, orgA, 'auditor', 'Otto');
    bea = await seedPerson(sql, orgB, 'admin', 'Bea');

    const enrolment = await call<Enrolment>('POST', '/runners/enrolments', ada.token, { name: 'raw-a' });
    const enrolled = await call<EnrolReply>('POST', '/runners/enrol', null, { token: enrolment.body.token, name: 'r' });
    runner = io(`${api.url}${NS_RUNNER}`, {
      auth: { credential: enrolled.body.credential, protocolVersion: PROTOCOL_VERSION },
      transports: ['websocket'],
      reconnection: false,
    });
    runner.on('session.input', (entry: InboxEntry, ack: (r: unknown) => void) => {
      received.push(entry);
      ack({ ok: true, applied: true });
    });
    await new Promise<void>((resolve, reject) => {
      runner.once('connect', () => resolve());
      runner.once('connect_error', reject);
    });
    await runner.emitWithAck('runner.hello', { sessions: [] });
  }, 120_000);

  afterAll(async () => {
    runner?.close();
    await api?.close();
    await sql?.end();
    await db?.drop();
  });

  it('refuses bad YAML with located, typed issues and stores nothing', async () => {
    const before = await stored();
    const eventsBefore = (await auditActions('agent.')).length;

    const syntax = await call<ErrorBody>('POST', '/agents', mia.token, { yaml: 'name: broken\nprompt: [unclosed\n' });
    expect(syntax.status).toBe(422);
    expect(syntax.body.code).toBe('agent.invalid');
    const syntaxIssues = (syntax.body.details as { issues: { line: number }[] }).issues;
    expect(syntaxIssues.length).toBeGreaterThan(0);
    expect(syntaxIssues[0].line).toBeGreaterThanOrEqual(2);

    const schema = await call<ErrorBody>('POST', '/agents', mia.token, {
      yaml: 'name: typo\nprompt: You help.\nharnes: codex\n',
    });
    expect(schema.status).toBe(422);
    expect(schema.body.code).toBe('agent.invalid');
    expect(schema.body.message).toContain('agent.yaml:3:');
    const [issue] = (schema.body.details as { issues: { line: number; path: string; message: string }[] }).issues;
    expect(issue.line).toBe(3);

    const badPolicy = await call<ErrorBody>('POST', '/agents', mia.token, {
      yaml: 'name: strict\nprompt: You help.\npolicies:\n  - { id: p1, when: { bogus: 1 }, effect: maybe }\n',
    });
    expect(badPolicy.status).toBe(422);
    expect(badPolicy.body.code).toBe('agent.invalid');

    const bomb = await call<ErrorBody>('POST', '/agents', mia.token, {
      yaml: `name: bomb\nprompt: &p hi\nx: [${'*p, '.repeat(150)}]\n`,
    });
    expect([bomb.status, bomb.body.code]).toEqual([422, 'agent.invalid']);
    expect(bomb.body.message).toMatch(/aliases more than 100 times/);

    const nul = await call<ErrorBody>('POST', '/agents', mia.token, { yaml: 'name: nul\nprompt: "a\\0b"\n' });
    expect([nul.status, nul.body.code]).toEqual([422, 'agent.invalid']);

    // The editor's check answers the same issues without storing anything.
    const check = await call<AgentValidation>('POST', '/agents/validate', mia.token, {
      yaml: 'name: typo\nprompt: You help.\nharnes: codex\n',
    });
    expect(check.status).toBe(200);
    expect(check.body.ok).toBe(false);
    if (!check.body.ok) expect(check.body.issues[0]).toMatchObject({ line: 3, column: 1 });
    const good = await call<AgentValidation>('POST', '/agents/validate', mia.token, { yaml: REVIEWER });
    expect(good.body).toEqual({
      ok: true,
      agent: { name: 'reviewer', description: null, harness: 'claude-code', model: 'claude-sonnet-4-5' },
    });

    expect(await stored()).toEqual(before);
    expect(await auditActions('agent.')).toHaveLength(eventsBefore);
  });

  it('keeps every save as a version, refuses a stale or clashing save, and logs each change', async () => {
    const agent = await save(mia, REVIEWER);
    expect(agent).toMatchObject({ name: 'reviewer', version: 1, harness: 'claude-code', yaml: REVIEWER });
    expect(agent.createdBy).toBe(mia.userId);

    // The same name twice is a clash, not a second agent.
    const twin = await call<ErrorBody>('POST', '/agents', max.token, { yaml: REVIEWER });
    expect(twin.status).toBe(409);
    expect(twin.body.code).toBe('agent.exists');

    const v2 = await call<LibraryAgent>('PUT', `/agents/${agent.id}`, mia.token, {
      yaml: REVIEWER_V2,
      expectedVersion: 1,
    });
    expect(v2.status).toBe(200);
    expect(v2.body).toMatchObject({ id: agent.id, version: 2, harness: 'codex', model: 'gpt-5', yaml: REVIEWER_V2 });

    const stale = await call<ErrorBody>('PUT', `/agents/${agent.id}`, mia.token, {
      yaml: REVIEWER,
      expectedVersion: 1,
    });
    expect(stale.status).toBe(409);
    expect(stale.body.code).toBe('agent.version_conflict');

    const bad = await call<ErrorBody>('PUT', `/agents/${agent.id}`, mia.token, { yaml: 'name: reviewer\n' });
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe('agent.invalid');

    const other = await save(mia, 'name: other\nprompt: You help.\n');
    const rename = await call<ErrorBody>('PUT', `/agents/${other.id}`, mia.token, { yaml: REVIEWER });
    expect(rename.status).toBe(409);
    expect(rename.body.code).toBe('agent.exists');

    const versions = await call<LibraryAgentVersionList>('GET', `/agents/${agent.id}/versions`, otto.token);
    expect(versions.status).toBe(200);
    expect(versions.body.versions.map((v) => [v.version, v.harness, v.yaml])).toEqual([
      [2, 'codex', REVIEWER_V2],
      [1, 'claude-code', REVIEWER],
    ]);
    expect((await call<LibraryAgent>('GET', `/agents/${agent.id}`, otto.token)).body.version).toBe(2);

    const events = await auditActions('agent.');
    const mine = events.filter((e) => e.event.target.id === agent.id);
    expect(mine.map((e) => [e.event.action, e.event.details.version, e.event.actor.onBehalfOf])).toEqual([
      ['agent.created', 1, mia.userId],
      ['agent.updated', 2, mia.userId],
    ]);
    expect(mine.every((e) => e.content !== null)).toBe(true);
  });

  it('lets auditors read, members save, and only the author or an admin change or delete', async () => {
    const agent = await save(mia, 'name: roles\nprompt: You help.\n');
    const before = await stored();

    const byAuditor = await call<ErrorBody>('POST', '/agents', otto.token, { yaml: 'name: nope\nprompt: x\n' });
    expect(byAuditor.status).toBe(403);
    expect((await call<LibraryAgentList>('GET', '/agents', otto.token)).body.agents.map((a) => a.name)).toContain(
      'roles',
    );

    const byOtherMember = await call<ErrorBody>('PUT', `/agents/${agent.id}`, max.token, {
      yaml: 'name: roles\nprompt: Hijacked.\n',
    });
    expect(byOtherMember.status).toBe(403);
    expect(byOtherMember.body.code).toBe('auth.forbidden');
    expect((await call<ErrorBody>('DELETE', `/agents/${agent.id}`, max.token)).status).toBe(403);
    expect(await stored()).toEqual(before);

    const byAdmin = await call<LibraryAgent>('PUT', `/agents/${agent.id}`, ada.token, {
      yaml: 'name: roles\nprompt: Reviewed by an admin.\n',
    });
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body).toMatchObject({ version: 2, updatedBy: ada.userId, createdBy: mia.userId });

    expect((await call('DELETE', `/agents/${agent.id}`, mia.token)).status).toBe(204);
    expect((await call<ErrorBody>('GET', `/agents/${agent.id}`, mia.token)).status).toBe(404);
    const deleted = (await auditActions('agent.deleted')).find((e) => e.event.target.id === agent.id);
    expect(deleted?.event.actor.onBehalfOf).toBe(mia.userId);
  });

  it("never shows or changes another org's agents: they are 404", async () => {
    const agent = await save(mia, 'name: private-one\nprompt: You help.\n');
    const before = await stored();

    expect((await call<LibraryAgentList>('GET', '/agents', bea.token)).body.agents).toEqual([]);
    for (const [method, path, body] of [
      ['GET', `/agents/${agent.id}`, undefined],
      ['GET', `/agents/${agent.id}/versions`, undefined],
      ['PUT', `/agents/${agent.id}`, { yaml: 'name: private-one\nprompt: Mine now.\n' }],
      ['DELETE', `/agents/${agent.id}`, undefined],
      ['POST', '/sessions', { agentId: agent.id, title: 'steal' }],
    ] as const) {
      const r = await call<ErrorBody>(method, path, bea.token, body);
      expect([method, path, r.status, r.body.code]).toEqual([method, path, 404, 'agent.not_found']);
    }
    // Org B may save an agent of the same name: names are unique per org.
    expect((await call('POST', '/agents', bea.token, { yaml: 'name: private-one\nprompt: B.\n' })).status).toBe(201);
    expect(await stored()).toEqual(before);
  });

  it('starts a session from a saved agent, at its latest or a named version, with a harness override', async () => {
    const agent = await save(mia, 'name: starter\nprompt: Version one.\nharness: yoke\nmodel: claude-sonnet-4-5\n');
    await call('PUT', `/agents/${agent.id}`, mia.token, {
      yaml: 'name: starter\nprompt: Version two.\nharness: yoke\n',
    });

    const latest = await call<Session>('POST', '/sessions', mia.token, { agentId: agent.id, prompt: 'hello' });
    expect(latest.status).toBe(201);
    const pinned = await call<Session>('POST', '/sessions', mia.token, {
      agentId: agent.id,
      agentVersion: 1,
      harness: 'codex',
      model: 'gpt-5',
    });
    expect(pinned.status).toBe(201);
    expect(pinned.body).toMatchObject({ harness: 'codex', model: 'gpt-5' });

    const startOf = (id: string) =>
      received.find((e) => e.sessionId === id && e.input.kind === 'start')?.input as
        | { kind: 'start'; spec: { agent: { name: string; prompt: string; harness: string }; harness: string } }
        | undefined;
    await expectEventually(() => startOf(latest.body.id) && startOf(pinned.body.id));
    expect(startOf(latest.body.id)?.spec.agent).toMatchObject({ name: 'starter', prompt: 'Version two.' });
    expect(startOf(pinned.body.id)?.spec.agent).toMatchObject({ prompt: 'Version one.', harness: 'codex' });
    await expectEventually(() => received.some((e) => e.sessionId === latest.body.id && e.input.kind === 'message'));

    const missing = await call<ErrorBody>('POST', '/sessions', mia.token, { agentId: agent.id, agentVersion: 9 });
    expect([missing.status, missing.body.code]).toEqual([404, 'agent.not_found']);
    const both = await call<ErrorBody>('POST', '/sessions', mia.token, { agentId: agent.id, agentYaml: REVIEWER });
    expect([both.status, both.body.code]).toEqual([400, 'request.invalid']);
  });

  it('serves the example agents shipped with Yoke, read-only', async () => {
    const r = await call<ExampleAgentList>('GET', '/agents/examples', otto.token);
    expect(r.status).toBe(200);
    expect(r.body.examples.map((e) => [e.file, e.name])).toEqual([
      ['helper.yaml', 'helper'],
      ['multi-harness.yaml', 'lead'],
    ]);
    expect(r.body.examples[0].yaml).toContain('name: helper');
  });
});
