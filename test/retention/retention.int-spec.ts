import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Client } from 'pg';
import { io, type Socket } from 'socket.io-client';
import { verifyBundle } from '@yoke/audit';
import {
  type AuditEventsPage,
  type AuditKeyView,
  type EnrolReply,
  type Enrolment,
  type InboxEntry,
  type ItemsPage,
  type LegalHoldView,
  NS_RUNNER,
  PROTOCOL_VERSION,
  type RetentionPreview,
  type RetentionRunResult,
  type RetentionSettingsView,
  type Session,
} from '@yoke/protocol';
import { type ApiProcess, startApiProcess } from '../audit/support/api-process';
import { seedOrg, seedPerson, type SeededPerson } from '../audit/support/e2e-fixtures';
import { expectEventually } from '../support/env';
import { migratedDatabase } from '../support/factories';
import { tempDir } from '../support/processes';

const AGENT = 'name: helper\nprompt: You help.\nmodel: claude-sonnet-4-5\n';
const DAY = 86_400_000;

/**
 * Retention and legal hold against a real Postgres and the real API (a child process, team mode without Redis, so
 * jobs and exports run in it): sessions get prompts, messages and tool calls from a raw runner socket, age by SQL,
 * and the sweep erases what the dry-run listed — from session_items, the items endpoint, the inbox and the audit
 * contents (redacted), so that no row anywhere in the database holds the words any more — while a held session and
 * a session of a held user keep everything, the exported log still verifies (content reported as redacted), and a
 * second run erases nothing.
 */
describe('retention and legal hold (real Postgres, real API)', () => {
  let db: Awaited<ReturnType<typeof migratedDatabase>>;
  let sql: Client;
  let api: ApiProcess;
  let runner: Socket;
  let orgA = '';
  let orgB = '';
  let ada: SeededPerson; // admin of A
  let mia: SeededPerson; // member of A, owner of a session under a user hold
  let otto: SeededPerson; // auditor of A
  let max: SeededPerson; // member of A
  let bea: SeededPerson; // admin of B
  const seqs = new Map<string, number>();
  /** A string nobody else writes, per session: what must go (or stay) everywhere. */
  const marks = {
    old: `erase-me-${randomUUID()}`,
    heldSession: `keep-session-${randomUUID()}`,
    heldUser: `keep-user-${randomUUID()}`,
    recent: `recent-${randomUUID()}`,
  };
  const ids = { old: '', heldSession: '', heldUser: '', recent: '' };

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

  async function report(sessionId: string, items: Record<string, unknown>[]) {
    const createdAt = new Date().toISOString();
    let seq = seqs.get(sessionId) ?? 0;
    const batch = items.map((item) => ({ seq: ++seq, turnId: 't1', createdAt, ...item }));
    seqs.set(sessionId, seq);
    const ack = (await runner.emitWithAck('session.items', { sessionId, items: batch })) as { ok: boolean };
    expect(ack).toEqual({ ok: true, lastSeq: seq });
  }

  /** A session of `who` with a prompt, a message, an answer, reasoning, a tool call and its output, all holding `mark`. */
  async function sessionWith(who: SeededPerson, mark: string): Promise<string> {
    const created = await call<Session>('POST', '/sessions', who.token, { agentYaml: AGENT, title: 'work' });
    expect(created.status).toBe(201);
    const id = created.body.id;
    expect((await call('POST', `/sessions/${id}/messages`, who.token, { text: `please ${mark}` })).status).toBe(202);
    await report(id, [
      { type: 'turn_started' },
      { type: 'user_message', content: [{ type: 'text', text: `please ${mark}` }] },
      { type: 'reasoning', text: `thinking about ${mark}` },
      {
        type: 'tool_call',
        callId: 'c1',
        tool: 'shell',
        nativeTool: 'Bash',
        input: { command: `echo ${mark}` },
        status: 'completed',
      },
      { type: 'tool_result', callId: 'c1', output: `${mark}\n`, isError: false },
      { type: 'file_change', path: 'notes.md', diff: `+${mark}` },
      { type: 'agent_message', text: `done: ${mark}` },
      { type: 'turn_completed', stopReason: 'end_turn' },
    ]);
    return id;
  }

  /** Moves a session, and the audit events of it, `days` into the past (as a superuser: the log is append-only). */
  async function age(sessionId: string, days: number) {
    const at = new Date(Date.now() - days * DAY);
    await sql.query('BEGIN');
    await sql.query('UPDATE sessions SET updated_at = $2 WHERE id = $1', [sessionId, at]);
    await sql.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
    // Only the column the store filters on: the event as hashed (and so its leaf) is unchanged.
    await sql.query('UPDATE audit_events SET at = $2 WHERE session_id = $1', [sessionId, at]);
    await sql.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
    await sql.query('COMMIT');
  }

  /** Every row of every table whose text holds `needle`, as `table: n`. */
  async function rowsHolding(needle: string): Promise<string[]> {
    const { rows: tables } = await sql.query<{ t: string }>(
      `SELECT quote_ident(table_name) AS t FROM information_schema.tables
       WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
    );
    const found: string[] = [];
    for (const { t } of tables) {
      const { rows } = await sql.query<{ n: string }>(`SELECT count(*) AS n FROM ${t} x WHERE x::text LIKE $1`, [
        `%${needle}%`,
      ]);
      if (Number(rows[0].n) > 0) found.push(`${t}: ${rows[0].n}`);
    }
    return found;
  }

  async function items(sessionId: string, token: string) {
    const page = await call<ItemsPage>('GET', `/sessions/${sessionId}/items`, token);
    expect(page.status).toBe(200);
    return page.body.items;
  }

  async function exportBundle(token: string): Promise<string> {
    const requested = await call<{ id: string }>('POST', '/audit/exports', token, { format: 'jsonl' });
    expect(requested.status).toBe(202);
    await expectEventually(async () => {
      const r = await call<{ status: string }>('GET', `/audit/exports/${requested.body.id}`, token);
      if (r.body.status === 'failed') throw new Error('the export failed');
      return r.body.status === 'done';
    }, 60_000);
    const res = await fetch(`${api.url}/api/v1/audit/exports/${requested.body.id}/download`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    const file = join(tempDir('yoke-retention'), 'audit.tar.gz');
    writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    return file;
  }

  async function events(action: string, token: string) {
    const page = await call<AuditEventsPage>('GET', `/audit/events?action=${action}&limit=500`, token);
    expect(page.status).toBe(200);
    return page.body.events;
  }

  beforeAll(async () => {
    db = await migratedDatabase();
    sql = new Client({ connectionString: db.url });
    await sql.connect();
    api = await startApiProcess(db.url);
    orgA = await seedOrg(sql, `ret-a-${Date.now().toString(36)}`);
    orgB = await seedOrg(sql, `ret-b-${Date.now().toString(36)}`);
    ada = await seedPerson(sql, orgA, 'admin', 'Ada');
    mia = await seedPerson(sql, orgA, 'member', 'Mia');
    otto = await seedPerson(sql, orgA, 'auditor', 'Otto');
    max = await seedPerson(sql, orgA, 'member', 'Max');
    bea = await seedPerson(sql, orgB, 'admin', 'Bea');

    // A raw runner of org A: the items it reports (and so their audit events) are exactly what this test sends.
    const enrolment = await call<Enrolment>('POST', '/runners/enrolments', ada.token, { name: 'raw' });
    expect(enrolment.status).toBe(201);
    const enrolled = await call<EnrolReply>('POST', '/runners/enrol', null, {
      token: enrolment.body.token,
      name: 'raw',
    });
    expect(enrolled.status).toBe(201);
    runner = io(`${api.url}${NS_RUNNER}`, {
      auth: { credential: enrolled.body.credential, protocolVersion: PROTOCOL_VERSION },
      transports: ['websocket'],
      reconnection: false,
    });
    runner.on('session.input', (_: InboxEntry, ack: (r: unknown) => void) => ack({ ok: true, applied: true }));
    await new Promise<void>((resolve, reject) => {
      runner.once('connect', () => resolve());
      runner.once('connect_error', reject);
    });
    await runner.emitWithAck('runner.hello', { sessions: [] });

    ids.old = await sessionWith(ada, marks.old);
    ids.heldSession = await sessionWith(ada, marks.heldSession);
    ids.heldUser = await sessionWith(mia, marks.heldUser);
    ids.recent = await sessionWith(ada, marks.recent);
    for (const id of [ids.old, ids.heldSession, ids.heldUser]) await age(id, 40);
    await age(ids.recent, 5);
  }, 120_000);

  afterAll(async () => {
    runner?.close();
    await api?.close();
    await sql?.end();
    await db?.drop();
  });

  let holdOnSession: LegalHoldView;
  let holdOnUser: LegalHoldView;
  let preview: RetentionPreview;
  let erasedEvents = 0;

  it('keeps everything until the org sets a retention: the settings read null, the dry-run lists nothing', async () => {
    const settings = await call<RetentionSettingsView>('GET', '/org/retention', otto.token);
    expect(settings).toEqual({
      status: 200,
      body: { sessionContentDays: null, auditContentDays: null, updatedAt: null, updatedBy: null },
    });
    const p = await call<RetentionPreview>('GET', '/org/retention/preview', otto.token);
    expect(p.status).toBe(200);
    expect(p.body.counts).toMatchObject({ sessionItems: 0, sessions: 0, inboxEntries: 0, auditContents: 0 });
    const run = await call<RetentionRunResult>('POST', '/org/retention/run', ada.token);
    expect(run.status).toBe(200);
    expect(run.body.counts.sessionItems + run.body.counts.auditContents).toBe(0);
  });

  it('refuses bad input with a clear 400 or 404 and changes nothing', async () => {
    for (const body of [
      { sessionContentDays: 0, auditContentDays: null },
      { sessionContentDays: 36_501, auditContentDays: null },
      { sessionContentDays: 1.5, auditContentDays: null },
      { sessionContentDays: '30', auditContentDays: null },
      { sessionContentDays: 30 },
      { sessionContentDays: 30, auditContentDays: 30, extra: true },
    ]) {
      const r = await call<{ code: string }>('PUT', '/org/retention', ada.token, body);
      expect([r.status, r.body.code]).toEqual([400, 'request.invalid']);
    }
    const hold = { scope: 'session', targetId: ids.old, reason: 'litigation' };
    for (const body of [
      { ...hold, reason: '' },
      { ...hold, reason: 'x'.repeat(501) },
      { ...hold, scope: 'team' },
      { ...hold, targetId: 'not-a-uuid' },
      { ...hold, note: 'x' },
    ]) {
      const r = await call<{ code: string }>('POST', '/org/legal-holds', ada.token, body);
      expect([r.status, r.body.code]).toEqual([400, 'request.invalid']);
    }
    // Another org's session, org and member are not found, and a hold that does not exist either.
    const theirs = await call<{ code: string }>('POST', '/org/legal-holds', bea.token, hold);
    expect([theirs.status, theirs.body.code]).toEqual([404, 'session.not_found']);
    const theirOrg = await call<{ code: string }>('POST', '/org/legal-holds', bea.token, {
      ...hold,
      scope: 'org',
      targetId: orgA,
    });
    expect([theirOrg.status, theirOrg.body.code]).toEqual([404, 'org.not_found']);
    const theirUser = await call<{ code: string }>('POST', '/org/legal-holds', bea.token, {
      ...hold,
      scope: 'user',
      targetId: mia.userId,
    });
    expect([theirUser.status, theirUser.body.code]).toEqual([404, 'member.not_found']);
    for (const id of [randomUUID(), 'nope']) {
      const r = await call<{ code: string }>('DELETE', `/org/legal-holds/${id}`, ada.token);
      expect([r.status, r.body.code]).toEqual([404, 'retention.hold_not_found']);
    }
    // Members change and read nothing; auditors read but do not change.
    expect((await call('GET', '/org/retention', max.token)).status).toBe(403);
    expect((await call('GET', '/org/retention/preview', max.token)).status).toBe(403);
    expect((await call('GET', '/org/legal-holds', max.token)).status).toBe(403);
    expect(
      (await call('PUT', '/org/retention', otto.token, { sessionContentDays: 1, auditContentDays: 1 })).status,
    ).toBe(403);
    expect((await call('POST', '/org/legal-holds', otto.token, hold)).status).toBe(403);
    expect((await call('POST', '/org/retention/run', otto.token)).status).toBe(403);
    const counts = await sql.query<{ settings: string; holds: string }>(
      'SELECT (SELECT count(*) FROM org_retention) AS settings, (SELECT count(*) FROM legal_holds) AS holds',
    );
    expect(counts.rows[0]).toEqual({ settings: '0', holds: '0' });
  });

  it('places holds on a session and on a user, each audited', async () => {
    const s = await call<LegalHoldView>('POST', '/org/legal-holds', ada.token, {
      scope: 'session',
      targetId: ids.heldSession,
      reason: 'case 17',
    });
    expect(s.status).toBe(201);
    holdOnSession = s.body;
    expect(holdOnSession).toMatchObject({
      scope: 'session',
      targetId: ids.heldSession,
      targetLabel: 'work',
      releasedAt: null,
    });
    const u = await call<LegalHoldView>('POST', '/org/legal-holds', ada.token, {
      scope: 'user',
      targetId: mia.userId,
      reason: 'case 18',
    });
    expect(u.status).toBe(201);
    holdOnUser = u.body;
    expect(holdOnUser.targetLabel).toMatch(/^mia-/);
    const listed = await call<LegalHoldView[]>('GET', '/org/legal-holds', otto.token);
    expect(listed.body.map((h) => h.id).sort()).toEqual([holdOnSession.id, holdOnUser.id].sort());
    expect((await events('legal_hold.placed', otto.token)).map((e) => e.event.target.id).sort()).toEqual(
      [holdOnSession.id, holdOnUser.id].sort(),
    );
  });

  it('the dry-run lists exactly the old, unheld session, and the holds that keep the others', async () => {
    const put = await call<RetentionSettingsView>('PUT', '/org/retention', ada.token, {
      sessionContentDays: 30,
      auditContentDays: 30,
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ sessionContentDays: 30, auditContentDays: 30, updatedBy: ada.userId });
    expect((await events('retention.updated', otto.token)).at(-1)?.event.details).toMatchObject({
      sessionContentDays: 30,
      auditContentDays: 30,
      previousSessionContentDays: null,
    });

    const p = await call<RetentionPreview>('GET', '/org/retention/preview', otto.token);
    expect(p.status).toBe(200);
    preview = p.body;
    expect(preview.sessions.map((s) => s.id)).toEqual([ids.old]);
    expect(preview.counts).toMatchObject({
      itemsByType: {
        user_message: 1,
        reasoning: 1,
        tool_call: 1,
        tool_result: 1,
        file_change: 1,
        agent_message: 1,
      },
      sessionItems: 6,
      sessions: 1,
      inboxEntries: 1,
    });
    expect(preview.counts.auditContents).toBeGreaterThan(0);
    expect(preview.held.sessions).toEqual(
      expect.arrayContaining([
        {
          id: ids.heldSession,
          title: 'work',
          holds: [{ id: holdOnSession.id, scope: 'session', targetId: ids.heldSession }],
        },
        { id: ids.heldUser, title: 'work', holds: [{ id: holdOnUser.id, scope: 'user', targetId: mia.userId }] },
      ]),
    );
    expect(preview.held.sessions).toHaveLength(2);
    expect(preview.held.auditContents).toBeGreaterThan(0);
    // The dry-run changed nothing.
    expect(await rowsHolding(marks.old)).toEqual(expect.arrayContaining([expect.stringMatching(/^session_items: /)]));
  });

  it('the sweep erases exactly what the dry-run listed, everywhere, and records the counts', async () => {
    const run = await call<RetentionRunResult>('POST', '/org/retention/run', ada.token);
    expect(run.status).toBe(200);
    expect(run.body.counts).toEqual(preview.counts);

    // Nowhere in the database any more: items, inbox, audit contents, anything.
    expect(await rowsHolding(marks.old)).toEqual([]);
    // The items are still there, valid, with the marker in place of their content.
    const erased = await items(ids.old, otto.token);
    expect(erased).toHaveLength(8);
    expect(JSON.stringify(erased)).not.toContain(marks.old);
    const marker = `[erased by retention on ${new Date().toISOString().slice(0, 10)}]`;
    expect(erased.find((i) => i.type === 'user_message')).toMatchObject({ content: [{ type: 'text', text: marker }] });
    expect(erased.find((i) => i.type === 'tool_call')).toMatchObject({ input: { erased: true }, callId: 'c1' });
    expect(erased.find((i) => i.type === 'tool_result')).toMatchObject({ output: marker });
    // Held sessions and the recent one keep everything.
    for (const [id, mark] of [
      [ids.heldSession, marks.heldSession],
      [ids.heldUser, marks.heldUser],
      [ids.recent, marks.recent],
    ]) {
      const kept = await items(id, otto.token);
      expect(kept.filter((i) => JSON.stringify(i).includes(mark))).toHaveLength(6);
      expect(await rowsHolding(mark)).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^session_items: 6$/),
          expect.stringMatching(/^inbox_entries: 1$/),
          expect.stringMatching(/^audit_contents: /),
        ]),
      );
    }

    // One event per round (one transaction each): the session content, then the audit content; counts only.
    const erasures = (await events('retention.erased', otto.token)).map((e) => e.event);
    erasedEvents = erasures.length;
    expect(erasures.length).toBeGreaterThan(0);
    for (const e of erasures) {
      expect(e).toMatchObject({
        // Run now: the admin's token acts (the nightly job acts as the system).
        actor: { kind: 'token', onBehalfOf: ada.userId },
        target: { kind: 'org', id: orgA },
        contentHash: null,
      });
      expect(Object.keys(e.details).sort()).toEqual(
        ['auditContentDays', 'auditContents', 'inboxEntries', 'sessionContentDays', 'sessionItems', 'sessions'].sort(),
      );
      expect(e.details).toMatchObject({ sessionContentDays: 30, auditContentDays: 30 });
    }
    const sum = (key: string) => erasures.reduce((n, e) => n + Number(e.details[key]), 0);
    expect({
      sessionItems: sum('sessionItems'),
      sessions: sum('sessions'),
      inboxEntries: sum('inboxEntries'),
      auditContents: sum('auditContents'),
    }).toEqual({ sessionItems: 6, sessions: 1, inboxEntries: 1, auditContents: preview.counts.auditContents });
    expect((await events('retention.run', otto.token)).length).toBe(2);
  });

  it('the exported log verifies intact, the erased content reported as redacted, and holds none of the words', async () => {
    const bundle = await exportBundle(otto.token);
    const keys = (await call<AuditKeyView[]>('GET', '/audit/keys', null)).body;
    const report = await verifyBundle(bundle, { trustedKeys: keys.map((k) => k.vkey) });
    expect(report).toMatchObject({
      ok: true,
      orgId: orgA,
      keysTrusted: true,
      redacted: { count: expect.any(Number), rules: ['retention-30d'] },
    });
    if (report.ok) expect(report.redacted.count).toBeGreaterThanOrEqual(preview.counts.auditContents);
    expect(gunzipSync(readFileSync(bundle)).toString('latin1')).not.toContain(marks.old);
    const { rows } = await sql.query<{ n: string }>(
      `SELECT count(*) AS n FROM audit_contents WHERE org_id = $1 AND redacted_rule = 'retention-30d' AND body IS NULL`,
      [orgA],
    );
    expect(Number(rows[0].n)).toBe(preview.counts.auditContents);
  });

  it('a second run erases nothing and records no erasure', async () => {
    const again = await call<RetentionRunResult>('POST', '/org/retention/run', ada.token);
    expect(again.body.counts).toEqual({
      itemsByType: {},
      sessionItems: 0,
      sessions: 0,
      inboxEntries: 0,
      auditContents: 0,
    });
    expect(await events('retention.erased', otto.token)).toHaveLength(erasedEvents);
    const p = await call<RetentionPreview>('GET', '/org/retention/preview', otto.token);
    expect(p.body.sessions).toEqual([]);
    expect(p.body.counts.sessionItems).toBe(0);
  });

  it("org B sees none of org A's settings or holds, and cannot release them", async () => {
    expect((await call<RetentionSettingsView>('GET', '/org/retention', bea.token)).body).toMatchObject({
      sessionContentDays: null,
      auditContentDays: null,
    });
    expect((await call<LegalHoldView[]>('GET', '/org/legal-holds?all=true', bea.token)).body).toEqual([]);
    const r = await call<{ code: string }>('DELETE', `/org/legal-holds/${holdOnSession.id}`, bea.token);
    expect([r.status, r.body.code]).toEqual([404, 'retention.hold_not_found']);
    const p = await call<RetentionPreview>('GET', '/org/retention/preview', bea.token);
    expect(p.body).toMatchObject({ sessions: [], held: { sessions: [], holds: [] } });
  });

  it('an org hold keeps everything; released holds stay listed and what they kept goes at the next run', async () => {
    const orgHold = await call<LegalHoldView>('POST', '/org/legal-holds', ada.token, {
      scope: 'org',
      targetId: orgA,
      reason: 'regulator',
    });
    expect(orgHold.status).toBe(201);
    const released = await call<LegalHoldView>('DELETE', `/org/legal-holds/${holdOnSession.id}`, ada.token);
    expect(released.status).toBe(200);
    expect(released.body).toMatchObject({
      id: holdOnSession.id,
      releasedBy: ada.userId,
      releasedAt: expect.any(String),
    });
    // The org hold still keeps the session whose own hold was released.
    const held = await call<RetentionPreview>('GET', '/org/retention/preview', otto.token);
    expect(held.body.counts).toMatchObject({ sessionItems: 0, auditContents: 0 });
    expect(held.body.held.sessions.find((s) => s.id === ids.heldSession)?.holds).toEqual([
      { id: orgHold.body.id, scope: 'org', targetId: orgA },
    ]);
    expect((await call<RetentionRunResult>('POST', '/org/retention/run', ada.token)).body.counts.sessionItems).toBe(0);
    expect(await rowsHolding(marks.heldSession)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^session_items: 6$/)]),
    );

    expect((await call('DELETE', `/org/legal-holds/${orgHold.body.id}`, ada.token)).status).toBe(200);
    const all = await call<LegalHoldView[]>('GET', '/org/legal-holds?all=true', otto.token);
    expect(
      all.body
        .filter((h) => h.releasedAt !== null)
        .map((h) => h.id)
        .sort(),
    ).toEqual([holdOnSession.id, orgHold.body.id].sort());
    expect((await call<LegalHoldView[]>('GET', '/org/legal-holds', otto.token)).body.map((h) => h.id)).toEqual([
      holdOnUser.id,
    ]);
    const run = await call<RetentionRunResult>('POST', '/org/retention/run', ada.token);
    expect(run.body.counts).toMatchObject({ sessionItems: 6, sessions: 1, inboxEntries: 1 });
    expect(await rowsHolding(marks.heldSession)).toEqual([]);
    // The user's hold still holds.
    expect(await rowsHolding(marks.heldUser)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^session_items: 6$/)]),
    );
  });
});
