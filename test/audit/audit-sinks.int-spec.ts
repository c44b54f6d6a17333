import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AuditEvent,
  type AuditSinkView,
  type CreatedAuditSink,
  type OrgRole,
  SINK_DELIVERY_HEADER,
  SINK_SIGNATURE_HEADER,
  SINK_TIMESTAMP_HEADER,
} from '@yoke/protocol';
import { hashSecret, newSecret } from '../../apps/server/src/core/tokens';
import { expectEventually } from '../support/env';
import { startTestDatabase, type TestDatabase } from '../support/factories';
import { type ApiProcess, startApiProcess } from './support/api-process';

type Delivery = { headers: IncomingMessage['headers']; body: string; events: AuditEvent[]; signed: boolean };

/**
 * Audit sinks over REST, against a real server (in-process jobs) on its own database: who may see and change them,
 * what input is refused (and leaves nothing behind), that another org's sink does not exist for a caller, that a
 * webhook's secret is shown once and never stored or shown in clear again, that every change is an audit event, and
 * that a new sink receives the log from its own creation on, signed.
 */
describe('audit sinks (REST)', () => {
  let db: TestDatabase;
  let server: ApiProcess;
  let receiver: Server;
  let receiverUrl = '';
  const deliveries: Delivery[] = [];
  /** The secret the receiver checks signatures with (the one the server showed at creation). */
  let receiverSecret = '';
  const orgA = { id: '', tokens: {} as Record<OrgRole, string> };
  const orgB = { id: '', owner: '' };

  const api = async <T = Record<string, unknown>>(method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T & { code?: string } };
  };
  const sinkCount = () => db.prisma.auditSink.count();
  const events = (orgId: string, action: string) =>
    db.prisma.auditEvent.findMany({ where: { orgId, action }, orderBy: { seq: 'asc' } });
  const sample = { name: 'siem', kind: 'webhook', url: '' };

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const ts = String(req.headers[SINK_TIMESTAMP_HEADER]);
        const expected = `v1=${createHmac('sha256', receiverSecret).update(`${ts}.${body}`).digest('hex')}`;
        const given = String(req.headers[SINK_SIGNATURE_HEADER]);
        const signed = given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
        deliveries.push({
          headers: req.headers,
          body,
          events: (JSON.parse(body) as { events: AuditEvent[] }).events,
          signed,
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    sample.url = receiverUrl;

    db = await startTestDatabase();
    server = await startApiProcess(db.url);
    const org = await db.prisma.org.create({ data: { slug: 'sinks-a', name: 'A' } });
    orgA.id = org.id;
    for (const role of ['owner', 'admin', 'auditor', 'member'] as const) {
      const user = await db.prisma.user.create({ data: { email: `${role}@sinks-a.example`, name: role } });
      await db.prisma.membership.create({ data: { orgId: org.id, userId: user.id, role } });
      orgA.tokens[role] = newSecret('ykt');
      await db.prisma.apiToken.create({
        data: { orgId: org.id, userId: user.id, name: role, tokenHash: hashSecret(orgA.tokens[role]) },
      });
    }
    const b = await db.prisma.org.create({ data: { slug: 'sinks-b', name: 'B' } });
    orgB.id = b.id;
    const bOwner = await db.prisma.user.create({ data: { email: 'owner@sinks-b.example', name: 'b' } });
    await db.prisma.membership.create({ data: { orgId: b.id, userId: bOwner.id, role: 'owner' } });
    orgB.owner = newSecret('ykt');
    await db.prisma.apiToken.create({
      data: { orgId: b.id, userId: bOwner.id, name: 'owner', tokenHash: hashSecret(orgB.owner) },
    });
  });

  afterAll(async () => {
    await server?.close();
    await db?.close();
    await new Promise((r) => receiver?.close(r));
  });

  it('refuses bad input with 400 request.invalid and stores nothing', async () => {
    const before = await sinkCount();
    const bad: unknown[] = [
      { ...sample, url: 'http://siem.example.com/hook' },
      { ...sample, url: 'ftp://127.0.0.1/hook' },
      { ...sample, url: 'https://user:pass@siem.example.com/hook' },
      { ...sample, url: 'http://10.0.0.1/hook' },
      { ...sample, url: 'not a url' },
      { ...sample, name: '' },
      { ...sample, kind: 'syslog' },
      { ...sample, format: 'cef' },
      { ...sample, secret: 'short' },
      { ...sample, fromSeq: 0 },
      { ...sample, extra: true },
      { name: 'otlp', kind: 'otlp_logs', url: 'https://otlp.example.com/v1/logs', secret: 'a-secret-of-enough-length' },
    ];
    for (const body of bad) {
      const res = await api('POST', '/audit/sinks', orgA.tokens.admin, body);
      expect({ body, status: res.status, code: res.body.code }).toEqual({ body, status: 400, code: 'request.invalid' });
    }
    expect(await sinkCount()).toBe(before);
    expect(await events(orgA.id, 'audit_sink.created')).toEqual([]);
  });

  it('lets owners and admins manage sinks, auditors only read them, members neither', async () => {
    const made = await api<CreatedAuditSink>('POST', '/audit/sinks', orgA.tokens.owner, {
      ...sample,
      name: 'by owner',
      url: 'https://siem.example.com/hook',
      secret: 'a-secret-the-owner-chose',
    });
    expect(made.status).toBe(201);
    // A secret the caller chose is not echoed back.
    expect(made.body.secret).toBeNull();
    const id = made.body.sink.id;
    for (const role of ['auditor', 'member'] as const) {
      const before = await sinkCount();
      expect((await api('POST', '/audit/sinks', orgA.tokens[role], sample)).body.code).toBe('auth.forbidden');
      expect((await api('PATCH', `/audit/sinks/${id}`, orgA.tokens[role], { enabled: false })).body.code).toBe(
        'auth.forbidden',
      );
      expect((await api('DELETE', `/audit/sinks/${id}`, orgA.tokens[role])).body.code).toBe('auth.forbidden');
      expect((await api('POST', `/audit/sinks/${id}/test`, orgA.tokens[role])).body.code).toBe('auth.forbidden');
      expect(await sinkCount()).toBe(before);
    }
    const seen = await api<AuditSinkView[]>('GET', '/audit/sinks', orgA.tokens.auditor);
    expect(seen.status).toBe(200);
    expect(seen.body.map((s) => s.id)).toContain(id);
    expect((await api('GET', '/audit/sinks', orgA.tokens.member)).status).toBe(403);

    const paused = await api<AuditSinkView>('PATCH', `/audit/sinks/${id}`, orgA.tokens.admin, { enabled: false });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ id, enabled: false, health: 'paused' });
    expect((await api('DELETE', `/audit/sinks/${id}`, orgA.tokens.admin)).status).toBe(204);
    expect((await api('DELETE', `/audit/sinks/${id}`, orgA.tokens.admin)).body.code).toBe('audit.sink_not_found');

    const [created] = await events(orgA.id, 'audit_sink.created');
    const [updated] = await events(orgA.id, 'audit_sink.updated');
    const [deleted] = await events(orgA.id, 'audit_sink.deleted');
    for (const e of [created, updated, deleted]) {
      expect(e.event).toMatchObject({ target: { kind: 'audit_sink', id }, outcome: 'success' });
      expect(JSON.stringify(e.event)).not.toContain('a-secret-the-owner-chose');
    }
    expect(updated.event).toMatchObject({ details: { enabled: false } });
  });

  it("keeps another org's sinks out of reach: listed nowhere, 404 on every route", async () => {
    const made = await api<CreatedAuditSink>('POST', '/audit/sinks', orgA.tokens.admin, {
      ...sample,
      url: 'https://siem.example.com/a',
      name: 'org a only',
    });
    const id = made.body.sink.id;
    const listed = await api<AuditSinkView[]>('GET', '/audit/sinks', orgB.owner);
    expect(listed.body.map((s) => s.id)).not.toContain(id);
    const patch = await api('PATCH', `/audit/sinks/${id}`, orgB.owner, { name: 'mine now' });
    expect([patch.status, patch.body.code]).toEqual([404, 'audit.sink_not_found']);
    const test = await api('POST', `/audit/sinks/${id}/test`, orgB.owner);
    expect([test.status, test.body.code]).toEqual([404, 'audit.sink_not_found']);
    const del = await api('DELETE', `/audit/sinks/${id}`, orgB.owner);
    expect([del.status, del.body.code]).toEqual([404, 'audit.sink_not_found']);
    const odd = await api('PATCH', '/audit/sinks/not-a-uuid', orgA.tokens.admin, { name: 'x' });
    expect([odd.status, odd.body.code]).toEqual([404, 'audit.sink_not_found']);
    const still = await db.prisma.auditSink.findUniqueOrThrow({ where: { id } });
    expect(still).toMatchObject({ orgId: orgA.id, name: 'org a only' });
    expect(await events(orgB.id, 'audit_sink.updated')).toEqual([]);
  });

  it('shows a generated webhook secret once, stores it sealed, and delivers the log from the sink creation on, signed', async () => {
    const made = await api<CreatedAuditSink>('POST', '/audit/sinks', orgA.tokens.admin, { ...sample, format: 'yoke' });
    expect(made.status).toBe(201);
    const secret = made.body.secret!;
    expect(secret).toMatch(/^yws_[\w-]{40,}$/);
    receiverSecret = secret;
    const id = made.body.sink.id;
    expect(made.body.sink).toMatchObject({ kind: 'webhook', url: receiverUrl, enabled: true, lag: 1 });

    // Never again: not in the list, not in the row, not in the log.
    const listed = await api('GET', '/audit/sinks', orgA.tokens.owner);
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    const row = await db.prisma.auditSink.findUniqueOrThrow({ where: { id } });
    expect(row.secretEnc).toBeTruthy();
    expect(row.secretEnc).not.toContain(secret);
    const log = await db.prisma.auditEvent.findMany({ where: { orgId: orgA.id } });
    expect(JSON.stringify(log.map((e) => e.event))).not.toContain(secret);

    // The first event the sink receives is its own creation, signed with the secret shown.
    const first = await expectEventually(() => deliveries.find((d) => d.events.some((e) => e.target.id === id)));
    expect(first.signed).toBe(true);
    expect(first.events[0]).toMatchObject({ action: 'audit_sink.created', target: { id }, orgId: orgA.id });
    const seqs = first.events.map((e) => e.seq);
    expect(first.headers[SINK_DELIVERY_HEADER]).toBe(`${seqs[0]}-${seqs[seqs.length - 1]}`);

    // A later change reaches it too, and the view says it is caught up.
    await api('PATCH', `/audit/sinks/${id}`, orgA.tokens.admin, { name: 'renamed' });
    await expectEventually(() => deliveries.some((d) => d.events.some((e) => e.action === 'audit_sink.updated')));
    const view = await expectEventually(async () => {
      const all = await api<AuditSinkView[]>('GET', '/audit/sinks', orgA.tokens.auditor);
      const s = all.body.find((x) => x.id === id);
      return s?.health === 'idle' ? s : null;
    });
    expect(view).toMatchObject({ name: 'renamed', lag: 0, lastError: null, failingSince: null });
    expect(view.lastDeliveredAt).not.toBeNull();
    expect(deliveries.every((d) => d.signed)).toBe(true);
  });

  it('sends a test delivery on demand, signed, moving no cursor, and records whether the sink took it', async () => {
    const made = await api<CreatedAuditSink>('POST', '/audit/sinks', orgA.tokens.admin, { ...sample, name: 'tested' });
    receiverSecret = made.body.secret!;
    const id = made.body.sink.id;
    await expectEventually(() => deliveries.some((d) => d.events.some((e) => e.target.id === id)));
    const before = await db.prisma.auditSink.findUniqueOrThrow({ where: { id } });
    const count = deliveries.length;
    const ok = await api('POST', `/audit/sinks/${id}/test`, orgA.tokens.admin);
    expect([ok.status, ok.body]).toEqual([200, { ok: true, error: null }]);
    const test = deliveries.slice(count).find((d) => JSON.parse(d.body).test === true)!;
    expect(test).toMatchObject({ signed: true, events: [] });
    expect(test.headers[SINK_DELIVERY_HEADER]).toBe('0-0');
    const after = await db.prisma.auditSink.findUniqueOrThrow({ where: { id } });
    expect(after.cursor).toBe(before.cursor);

    // A sink that does not answer: the reply says why, the event says it failed.
    const dead = await api<CreatedAuditSink>('POST', '/audit/sinks', orgA.tokens.admin, {
      ...sample,
      name: 'dead',
      url: 'http://127.0.0.1:9/hook',
    });
    const refused = await api<{ ok: boolean; error: string }>(
      'POST',
      `/audit/sinks/${dead.body.sink.id}/test`,
      orgA.tokens.admin,
    );
    expect(refused.status).toBe(200);
    expect(refused.body.ok).toBe(false);
    expect(refused.body.error).toMatch(/ECONNREFUSED|fetch failed/);
    const tested = await events(orgA.id, 'audit_sink.tested');
    expect(tested.map((e) => [(e.event as { target: { id: string } }).target.id, e.outcome])).toEqual([
      [id, 'success'],
      [dead.body.sink.id, 'failed'],
    ]);
  });

  it('tests an OTLP logs sink the same way: one record, acknowledged by the receiver', async () => {
    const records: { name?: string; body?: string }[] = [];
    const otlp = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        type Rec = { eventName?: string; body?: { stringValue?: string } };
        const payload = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
          resourceLogs: { scopeLogs: { logRecords: Rec[] }[] }[];
        };
        for (const rl of payload.resourceLogs)
          for (const sl of rl.scopeLogs)
            for (const r of sl.logRecords) records.push({ name: r.eventName, body: r.body?.stringValue });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => otlp.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(otlp.address() as AddressInfo).port}/v1/logs`;
      const made = await api<CreatedAuditSink>('POST', '/audit/sinks', orgA.tokens.admin, {
        name: 'collector',
        kind: 'otlp_logs',
        url,
      });
      expect(made.status).toBe(201);
      expect(made.body.secret).toBeNull();
      const ok = await api('POST', `/audit/sinks/${made.body.sink.id}/test`, orgA.tokens.admin);
      expect(ok.body).toEqual({ ok: true, error: null });
      expect(records).toContainEqual({ name: 'yoke.audit.test', body: '{"test":true}' });
      // And its creation event arrives as a record named by its action.
      await expectEventually(() => records.some((r) => r.name === 'audit_sink.created'));
    } finally {
      otlp.closeAllConnections();
      await new Promise((r) => otlp.close(r));
    }
  });
});
