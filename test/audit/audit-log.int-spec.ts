import 'reflect-metadata';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as tar from 'tar';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Client } from 'pg';
import { generateSigningKey, openNote, verifyBundle } from '@yoke/audit';
import { CoreModule } from '../../apps/server/src/core/core.module';
import { Transactions } from '../../apps/server/src/core/prisma/transactions';
import { QueueModule } from '../../apps/server/src/core/queue/queue.module';
import { AuditCheckpoints } from '../../apps/server/src/modules/audit/audit-checkpoints.service';
import { AuditExports } from '../../apps/server/src/modules/audit/audit-exports.service';
import { AuditKeys } from '../../apps/server/src/modules/audit/audit-keys.service';
import { AuditModule } from '../../apps/server/src/modules/audit/audit.module';
import { AuditRepository } from '../../apps/server/src/modules/audit/audit.repository';
import { type AuditEntry, AuditTrail } from '../../apps/server/src/modules/audit/audit-trail.service';
import { ocsfValidators } from '../fixtures/ocsf/validators';
import { expectEventually } from '../support/env';
import { factories, migratedDatabase } from '../support/factories';

/**
 * The audit log against a real Postgres, through the server's own services (no HTTP): gap-free seqs under
 * concurrent appends, the append-only trigger, fail-closed transactions, signed checkpoints, and exports that
 * `verifyBundle` checks — and that name the seq a superuser tampered with, however they did it.
 */
describe('audit log (real Postgres)', () => {
  let ctx: INestApplicationContext;
  let db: Awaited<ReturnType<typeof migratedDatabase>>;
  let sql: Client;
  let home: string;
  let trail: AuditTrail;
  let tx: Transactions;
  let checkpoints: AuditCheckpoints;
  let exportsService: AuditExports;
  let repo: AuditRepository;
  let keys: AuditKeys;
  let f: ReturnType<typeof factories>;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'yoke-audit-'));
    db = await migratedDatabase({
      YOKE_SECRET_KEY: randomBytes(32).toString('base64url'),
      YOKE_HOME: home,
      YOKE_AUDIT_CHECKPOINT_EVENTS: '1000000',
      YOKE_AUDIT_CHECKPOINT_SECONDS: '86400',
    });
    @Module({ imports: [CoreModule.forRoot(db.config, db.url, null), QueueModule, AuditModule] })
    class AuditTestModule {}
    ctx = await NestFactory.createApplicationContext(AuditTestModule, { logger: ['error'] });
    await ctx.init();
    trail = ctx.get(AuditTrail);
    tx = ctx.get(Transactions);
    checkpoints = ctx.get(AuditCheckpoints);
    exportsService = ctx.get(AuditExports);
    repo = ctx.get(AuditRepository);
    keys = ctx.get(AuditKeys);
    f = factories(ctx.get(Transactions).client as never);
    sql = new Client({ connectionString: db.url });
    await sql.connect();
  });

  afterAll(async () => {
    await sql?.end();
    await ctx?.close();
    await db?.drop();
    rmSync(home, { recursive: true, force: true });
  });

  const entry = (orgId: string, i: number): AuditEntry => ({
    orgId,
    action: 'session.prompt',
    target: { kind: 'session', id: `s${i % 3}` },
    actor: { kind: 'user', id: `u${i % 2}`, name: `user${i % 2}@example.com` },
    details: { n: i },
    content: { text: `prompt number ${i}` },
  });

  async function newOrg(events: number) {
    const org = await f.org();
    for (let i = 0; i < events; i++) await trail.record(entry(org.id, i));
    return org.id;
  }

  async function exportOf(
    orgId: string,
    filters: { sessionId?: string; actor?: string } = {},
    format: 'jsonl' | 'csv' | 'ocsf' = 'jsonl',
  ) {
    const principal = { orgId, userId: 'u0', name: 'u', email: 'u@example.com', role: 'auditor' as const };
    const view = await exportsService.request(principal, { format, ...filters });
    // The job runs in process (no Redis here), as in embedded mode.
    let row = await repo.findExport(orgId, view.id);
    await expectEventually(async () => {
      row = await repo.findExport(orgId, view.id);
      return row?.status === 'done' || row?.status === 'failed';
    });
    expect(row?.status).toBe('done');
    return row!.path!;
  }

  /** As a superuser would: with the append-only triggers out of the way. */
  async function asSuperuser(statements: string[]) {
    await sql.query('BEGIN');
    await sql.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
    for (const s of statements) await sql.query(s);
    await sql.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
    await sql.query('COMMIT');
  }

  it('gives concurrent appends gap-free seqs in commit order, one log per org', async () => {
    const [a, b] = [(await f.org()).id, (await f.org()).id];
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => trail.record(entry(i % 2 ? a : b, i), entry(i % 2 ? a : b, i + 100))),
    );
    for (const org of [a, b]) {
      const { rows } = await sql.query<{ seq: string }>('SELECT seq FROM audit_events WHERE org_id = $1 ORDER BY seq', [
        org,
      ]);
      expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    }
    const { rows } = await sql.query<{ at: Date; seq: string }>(
      'SELECT at, seq FROM audit_events WHERE org_id = $1 ORDER BY seq',
      [a],
    );
    for (let i = 1; i < rows.length; i++) expect(rows[i].at.getTime()).toBeGreaterThanOrEqual(rows[i - 1].at.getTime());
  });

  it('refuses UPDATE, DELETE and TRUNCATE of events and checkpoints, and any content change but a redaction', async () => {
    const org = await newOrg(2);
    await checkpoints.checkpoint(org);
    for (const statement of [
      `UPDATE audit_events SET action = 'x.y' WHERE org_id = '${org}'`,
      `DELETE FROM audit_events WHERE org_id = '${org}'`,
      'TRUNCATE audit_events CASCADE',
      `UPDATE audit_checkpoints SET size = 0 WHERE org_id = '${org}'`,
      `DELETE FROM audit_checkpoints WHERE org_id = '${org}'`,
      `UPDATE audit_contents SET body = '{"text":"else"}' WHERE org_id = '${org}'`,
      `DELETE FROM audit_contents WHERE org_id = '${org}'`,
    ]) {
      await expect(sql.query(statement)).rejects.toThrow(/append-only|only be redacted/);
    }
    await sql.query(
      `UPDATE audit_contents SET body = NULL, redacted_rule = 'r30', redacted_at = now() WHERE org_id = $1`,
      [org],
    );
    expect((await sql.query('SELECT count(*)::int AS n FROM audit_events WHERE org_id = $1', [org])).rows[0].n).toBe(2);
  });

  it('fails closed: an append that fails rolls back the change it records, with audit.unavailable', async () => {
    const org = await f.org();
    await sql.query(`CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'audit refused by the test'; END $$`);
    await sql.query(
      'CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_audit()',
    );
    try {
      await expect(
        tx.run(async () => {
          await tx.client.org.update({ where: { id: org.id }, data: { name: 'renamed' } });
          await trail.record({ orgId: org.id, action: 'org.renamed', target: { kind: 'org', id: org.id } });
        }),
      ).rejects.toMatchObject({ code: 'audit.unavailable' });
      expect((await sql.query('SELECT name FROM orgs WHERE id = $1', [org.id])).rows[0].name).not.toBe('renamed');
    } finally {
      await sql.query('DROP TRIGGER refuse_audit ON audit_events');
      await sql.query('DROP FUNCTION refuse_audit()');
    }
  });

  it('signs checkpoints that extend each other, heartbeats included, with the published key', async () => {
    const org = await newOrg(5);
    const first = await checkpoints.checkpoint(org);
    const heartbeat = await checkpoints.checkpoint(org);
    await trail.record(entry(org, 99));
    const third = await checkpoints.checkpoint(org);
    expect([first, heartbeat, third].map((c) => Number(c.size))).toEqual([5, 5, 6]);
    const published = await keys.published();
    const opened = openNote(
      third.note,
      published.map((k) => k.vkey),
    );
    expect(opened).toMatchObject({ origin: `yoke/audit/${org}`, size: 6 });
    expect(opened.root.equals(Buffer.from(third.root))).toBe(true);
    expect(
      new Date(
        openNote(
          heartbeat.note,
          published.map((k) => k.vkey),
        ).time,
      ).getTime(),
    ).toBeGreaterThan(first.at.getTime() - 1);
  });

  it('exports a bundle that verifies offline, with redacted content reported as such', async () => {
    const org = await newOrg(30);
    await checkpoints.checkpoint(org);
    await trail.record(entry(org, 31), entry(org, 32));
    await sql.query(
      `UPDATE audit_contents SET body = NULL, redacted_rule = 'retention-30d', redacted_at = now()
       WHERE org_id = $1 AND hash = (SELECT content_hash FROM audit_events WHERE org_id = $1 AND seq = 3)`,
      [org],
    );
    const report = await verifyBundle(await exportOf(org));
    expect(report).toMatchObject({ ok: true, events: 33, treeSize: 33 });
    if (report.ok) expect(report.redacted).toEqual({ count: 1, rules: ['retention-30d'] });
    // The export itself is an event: the next export covers it.
    const filtered = await verifyBundle(await exportOf(org, { actor: 'u1' }));
    expect(filtered).toMatchObject({ ok: true, events: 16 });
  });

  it('exports OCSF records that each validate against the pinned OCSF schema of their class', async () => {
    const org = await newOrg(12);
    await trail.record({
      orgId: org,
      action: 'auth.sign_in',
      target: { kind: 'web_session', id: 'w1' },
      actor: { kind: 'user', id: 'u9', name: 'u9@example.com' },
    });
    const file = await exportOf(org, {}, 'ocsf');
    expect(await verifyBundle(file)).toMatchObject({ ok: true, events: 14 });
    const dir = mkdtempSync(join(tmpdir(), 'yoke-ocsf-'));
    try {
      await tar.x({ file, cwd: dir });
      const records = readFileSync(join(dir, 'events.ocsf.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { class_uid: number; metadata: { sequence: number } });
      expect(records.map((r) => r.metadata.sequence)).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
      const validators = ocsfValidators();
      const classes = new Set<number>();
      for (const r of records) {
        classes.add(r.class_uid);
        const validate = validators.get(r.class_uid)!;
        expect({ record: r, valid: validate(r), errors: validate.errors ?? null }).toMatchObject({ valid: true });
      }
      expect([...classes].sort()).toEqual([3002, 6003]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rotates to a configured key: the old one stays published, retired, and both verify their checkpoints', async () => {
    const org = await newOrg(4);
    const before = await checkpoints.checkpoint(org);
    const next = generateSigningKey('yoke-audit-rotated');
    @Module({
      imports: [
        CoreModule.forRoot({ ...db.config, audit: { ...db.config.audit, signingKey: next.skey } }, db.url, null),
        QueueModule,
        AuditModule,
      ],
    })
    class RotatedModule {}
    const rotated = await NestFactory.createApplicationContext(RotatedModule, { logger: ['error'] });
    try {
      await rotated.init();
      await rotated.get(AuditTrail).record(entry(org, 5));
      const after = await rotated.get(AuditCheckpoints).checkpoint(org);
      const published = await rotated.get(AuditKeys).published();
      expect(published.find((k) => k.vkey === next.vkey)).toMatchObject({ retiredAt: null });
      expect(published.find((k) => k.id === before.keyId)?.retiredAt).not.toBeNull();
      const vkeys = published.map((k) => k.vkey);
      expect(openNote(before.note, vkeys).keyName).not.toBe(next.name);
      expect(openNote(after.note, vkeys)).toMatchObject({ keyName: next.name, size: 5 });
    } finally {
      await rotated.close();
    }
  });

  describe('tampering is detected and named', () => {
    let org: string;
    let pinned: string[];

    beforeEach(async () => {
      org = await newOrg(20);
      await checkpoints.checkpoint(org);
      pinned = (await keys.published()).map((k) => k.vkey);
    });

    it("a superuser's UPDATE of one field", async () => {
      await asSuperuser([
        `UPDATE audit_events SET event = jsonb_set(event, '{outcome}', '"denied"') WHERE org_id = '${org}' AND seq = 7`,
      ]);
      expect(await verifyBundle(await exportOf(org), { trustedKeys: pinned })).toMatchObject({
        ok: false,
        seq: 7,
        kind: 'edited',
      });
    });

    it('a DELETE', async () => {
      await asSuperuser([`DELETE FROM audit_events WHERE org_id = '${org}' AND seq = 12`]);
      expect(await verifyBundle(await exportOf(org), { trustedKeys: pinned })).toMatchObject({
        ok: false,
        seq: 12,
        kind: 'missing',
      });
    });

    it('a swapped pair', async () => {
      await asSuperuser([
        `UPDATE audit_events SET seq = -1 WHERE org_id = '${org}' AND seq = 4`,
        `UPDATE audit_events SET seq = 4, event = jsonb_set(event, '{seq}', '4') WHERE org_id = '${org}' AND seq = 5`,
        `UPDATE audit_events SET seq = 5, event = jsonb_set(event, '{seq}', '5') WHERE org_id = '${org}' AND seq = -1`,
      ]);
      expect(await verifyBundle(await exportOf(org), { trustedKeys: pinned })).toMatchObject({
        ok: false,
        seq: 4,
        kind: 'reordered',
      });
    });

    it('an inserted row', async () => {
      await asSuperuser([
        `UPDATE audit_events SET seq = seq + 1000 WHERE org_id = '${org}' AND seq >= 9`,
        `UPDATE audit_events SET seq = seq - 999, event = jsonb_set(event, '{seq}', to_jsonb(seq - 999))
         WHERE org_id = '${org}' AND seq >= 1009`,
        `INSERT INTO audit_events (org_id, seq, id, at, actor_kind, actor_id, action, outcome, event, leaf)
         SELECT org_id, 9, gen_random_uuid(), at, actor_kind, actor_id, 'api_token.revoked', outcome,
                jsonb_set(jsonb_set(jsonb_set(event, '{action}', '"api_token.revoked"'), '{id}',
                  to_jsonb(gen_random_uuid()::text)), '{seq}', '9'),
                leaf
         FROM audit_events WHERE org_id = '${org}' AND seq = 8`,
        `UPDATE audit_heads SET size = size + 1 WHERE org_id = '${org}'`,
      ]);
      expect(await verifyBundle(await exportOf(org), { trustedKeys: pinned })).toMatchObject({
        ok: false,
        seq: 9,
        kind: 'inserted',
      });
    });

    it('a checkpoint signed by another key', async () => {
      const forged = generateSigningKey('yoke-audit-forged');
      const file = await exportOf(org);
      const report = await verifyBundle(file, { trustedKeys: [forged.vkey] });
      expect(report).toMatchObject({ ok: false, kind: 'unknown_key' });
    });

    it('a byte flipped in the bundle', async () => {
      const file = await exportOf(org);
      const bytes = readFileSync(file);
      bytes[Math.floor(bytes.length / 2)] ^= 0x01;
      writeFileSync(file, bytes);
      expect(await verifyBundle(file, { trustedKeys: pinned })).toMatchObject({ ok: false });
    });
  });
});
