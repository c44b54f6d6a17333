/**
 * bench/audit: what the audit log costs on the server's own paths, against baselines measured in the same run.
 * Prints figures; never a test. Exit 0 whatever the figures; 1 only when the run itself is wrong.
 *
 *   npm run bench:audit -- [flags]
 *     --batches 2000     item batches per variant (interleaved in --rounds 10)
 *     --items 20         items per batch (a tool-heavy turn: prompts, tool calls, commands, results, decisions)
 *     --append 100000    events appended through AuditTrail.record for the throughput figure
 *     --export 1000000   events in the big export (the small one has a tenth); 0 skips the export phase
 *
 * 1. Item batches: the runner's `session.items` path — SessionsRepository.appendItems in one transaction — without
 *    the audit, and with it (appendItems + AuditTrail.record of the batch's session activity, one transaction, as
 *    RunnerEventsService does). p50 / p99 of each, and the p99 ratio. Target: the audit adds ≤ 15% to the p99.
 * 2. Append throughput: events/s through AuditTrail.record in batches of 100 and of 1, and the same rows inserted
 *    without the audit's head lock, leaf hashing and content rows (a plain createMany of the same columns).
 * 3. Export: the org's log seeded to N events (through AuditTrail.record, 1,000 per call), then an export job runs
 *    in a child process of its own (its peak RSS is its own), at N/10 and N events. Target: peak RSS at N ≤ 1.2x
 *    at N/10. Verify throughput of the same bundle is `bench/audit-verify.ts`'s figure; printed here too.
 * Needs Postgres (DATABASE_URL's server, default the local one) and `npm run build` for the libs' dist.
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { ItemDraft } from '@yoke/protocol';
import { verifyBundle } from '../libs/audit/src/index';
import { loadConfig } from '../apps/server/src/core/config/config';
import { CoreModule } from '../apps/server/src/core/core.module';
import { runMigrations } from '../apps/server/src/core/database/migrate';
import { PrismaService } from '../apps/server/src/core/prisma/prisma.service';
import { Transactions } from '../apps/server/src/core/prisma/transactions';
import { QueueModule } from '../apps/server/src/core/queue/queue.module';
import { AuditExports } from '../apps/server/src/modules/audit/audit-exports.service';
import { AuditModule } from '../apps/server/src/modules/audit/audit.module';
import { AuditRepository } from '../apps/server/src/modules/audit/audit.repository';
import { type AuditEntry, AuditTrail } from '../apps/server/src/modules/audit/audit-trail.service';
import { sessionActivity } from '../apps/server/src/modules/audit/session-activity';
import { SessionsRepository } from '../apps/server/src/modules/sessions/sessions.repository';
import { createTestDatabase } from '../test/support/env';

const TARGET_P99_RATIO = 1.15;
const TARGET_RSS_RATIO = 1.2;

const { values: flags } = parseArgs({
  options: {
    batches: { type: 'string', default: '2000' },
    items: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '10' },
    append: { type: 'string', default: '100000' },
    export: { type: 'string', default: '1000000' },
    // Internal: the export child.
    'child-export': { type: 'string' },
    'database-url': { type: 'string' },
    org: { type: 'string' },
    home: { type: 'string' },
  },
});

type Ctx = Awaited<ReturnType<typeof context>>;

/** One secret for the bench and its export children (the signing key is sealed with it). */
const SECRET = process.env.YOKE_BENCH_SECRET ?? randomBytes(32).toString('base64url');

async function context(databaseUrl: string, home: string) {
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    YOKE_EMBEDDED: '0',
    YOKE_SECRET_KEY: SECRET,
    YOKE_HOME: home,
    LOG_LEVEL: 'silent',
    YOKE_AUDIT_CHECKPOINT_EVENTS: '1000000',
    YOKE_AUDIT_CHECKPOINT_SECONDS: '86400',
  });
  @Module({ imports: [CoreModule.forRoot(config, databaseUrl, null), QueueModule, AuditModule] })
  class BenchModule {}
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: false });
  await app.init();
  const tx = app.get(Transactions);
  return {
    app,
    tx,
    prisma: app.get(PrismaService),
    trail: app.get(AuditTrail),
    audit: app.get(AuditRepository),
    exports: app.get(AuditExports),
    sessions: new SessionsRepository(tx),
  };
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function batchOf(from: number, n: number, turn: string): ItemDraft[] {
  const at = new Date().toISOString();
  const out: ItemDraft[] = [];
  for (let i = 0; out.length < n; i++) {
    const seq = from + out.length;
    const callId = `c${seq}`;
    const base = { seq, turnId: turn, createdAt: at };
    switch (i % 10) {
      case 0:
        out.push({
          ...base,
          type: 'user_message',
          content: [{ type: 'text', text: `do step ${seq}` }],
          actor: { id: 'u', name: 'U' },
        });
        break;
      case 1:
      case 5:
        out.push({
          ...base,
          type: 'tool_call',
          callId,
          tool: 'shell',
          nativeTool: 'Bash',
          input: { command: `npm test -- ${seq}` },
          status: 'completed',
        });
        break;
      case 2:
      case 6:
        out.push({
          ...base,
          type: 'command',
          callId: `c${seq - 1}`,
          argv: ['bash', '-lc', 'npm test'],
          cwd: '/w',
          exitCode: 0,
          output: 'ok\n'.repeat(20),
        });
        break;
      case 3:
        out.push({
          ...base,
          type: 'policy_decision',
          callId,
          action: 'tool_call',
          verdict: seq % 3 ? 'allow' : 'deny',
          policies: ['deny-push'],
          reasons: ['no push'],
        });
        break;
      case 4:
      case 8:
        out.push({ ...base, type: 'agent_message', text: 'working on it '.repeat(20) });
        break;
      case 7:
        out.push({ ...base, type: 'tool_result', callId, output: 'done', isError: false });
        break;
      default:
        out.push({
          ...base,
          type: 'usage',
          model: 'm',
          inputTokens: 100,
          outputTokens: 50,
          cachedTokens: 0,
          costUsd: 0.001,
        });
    }
  }
  return out;
}

async function seedSession(ctx: Ctx) {
  const org = await ctx.prisma.org.create({ data: { slug: `bench-${randomUUID().slice(0, 8)}`, name: 'bench' } });
  const user = await ctx.prisma.user.create({ data: { email: `${randomUUID()}@bench.local`, name: 'Bench' } });
  const runner = await ctx.prisma.runner.create({
    data: { orgId: org.id, name: 'bench', credentialHash: randomBytes(16).toString('hex') },
  });
  const { session } = await ctx.sessions.create(
    {
      orgId: org.id,
      ownerId: user.id,
      runnerId: runner.id,
      title: 'bench',
      agent: {},
      harness: 'yoke',
      model: null,
      workspace: null,
      policies: [],
      idempotencyKey: null,
    },
    () => [],
  );
  return { orgId: org.id, ownerId: user.id, sessionId: session.id };
}

async function itemBatches(ctx: Ctx) {
  const batches = Number(flags.batches);
  const size = Number(flags.items);
  const rounds = Number(flags.rounds);
  const plain = await seedSession(ctx);
  const audited = await seedSession(ctx);
  const times: Record<'plain' | 'audited', number[]> = { plain: [], audited: [] };
  const next = { plain: 1, audited: 1 };
  const run = async (variant: 'plain' | 'audited') => {
    const s = variant === 'plain' ? plain : audited;
    const drafts = batchOf(next[variant], size, `t${next[variant]}`);
    next[variant] += size;
    const t0 = process.hrtime.bigint();
    if (variant === 'plain') await ctx.sessions.appendItems(s.sessionId, drafts);
    else
      await ctx.tx.run(async () => {
        const r = await ctx.sessions.appendItems(s.sessionId, drafts);
        await ctx.trail.record(
          ...sessionActivity({ orgId: s.orgId, sessionId: s.sessionId, ownerId: s.ownerId }, r.appended),
        );
      });
    times[variant].push(Number(process.hrtime.bigint() - t0) / 1e6);
  };
  for (let i = 0; i < 100; i++) {
    await run('plain');
    await run('audited');
  }
  times.plain.length = 0;
  times.audited.length = 0;
  const per = Math.ceil(batches / rounds);
  for (let r = 0; r < rounds; r++) {
    const order: ('plain' | 'audited')[] = r % 2 ? ['audited', 'plain'] : ['plain', 'audited'];
    for (const v of order) for (let i = 0; i < per; i++) await run(v);
  }
  const events = await ctx.audit.size(audited.orgId);
  console.log(
    `\n1. item batches of ${size} items (${batches} per variant; ${events} audit events written by the audited one)`,
  );
  console.log('variant        batches    p50 ms    p99 ms   mean ms');
  const row = (name: string, xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(
      `${name.padEnd(14)}${String(xs.length).padStart(8)}${pct(s, 50).toFixed(3).padStart(10)}${pct(s, 99).toFixed(3).padStart(10)}${mean.toFixed(3).padStart(10)}`,
    );
    return pct(s, 99);
  };
  const p99Plain = row('without audit', times.plain);
  const p99Audited = row('with audit', times.audited);
  const ratio = p99Audited / p99Plain;
  console.log(
    `p99 ratio ${ratio.toFixed(3)}x — target ≤ ${TARGET_P99_RATIO}x: ${ratio <= TARGET_P99_RATIO ? 'PASS' : 'FAIL'}`,
  );
}

async function appendThroughput(ctx: Ctx) {
  const total = Number(flags.append);
  const org = await ctx.prisma.org.create({ data: { slug: `bench-${randomUUID().slice(0, 8)}`, name: 'bench' } });
  const entry = (i: number): AuditEntry => ({
    orgId: org.id,
    action: 'tool.call',
    target: { kind: 'tool_call', id: `c${i}` },
    actor: { kind: 'agent', id: 's', onBehalfOf: 'u' },
    details: { tool: 'shell', status: 'completed' },
    content: { command: `npm test ${i}` },
  });
  const time = async (fn: () => Promise<void>) => {
    const t0 = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - t0) / 1e9;
  };
  const batched = await time(async () => {
    for (let i = 0; i < total; i += 100) await ctx.trail.record(...Array.from({ length: 100 }, (_, k) => entry(i + k)));
  });
  const single = await time(async () => {
    for (let i = 0; i < total / 20; i++) await ctx.trail.record(entry(i));
  });
  // The same rows without the audit's work (no head lock, no hashing, no content rows): a plain insert.
  const plainOrg = await ctx.prisma.org.create({ data: { slug: `bench-${randomUUID().slice(0, 8)}`, name: 'b' } });
  const plain = await time(async () => {
    for (let i = 0; i < total; i += 100) {
      await ctx.prisma.auditEvent.createMany({
        data: Array.from({ length: 100 }, (_, k) => ({
          orgId: plainOrg.id,
          seq: BigInt(i + k + 1),
          id: randomUUID(),
          at: new Date(),
          actorKind: 'agent',
          actorId: 's',
          action: 'tool.call',
          outcome: 'success',
          event: { n: i + k },
          leaf: new Uint8Array(32),
        })),
      });
    }
  });
  console.log(`\n2. append throughput (${total} events)`);
  console.log(`AuditTrail.record, 100 per call   ${Math.round(total / batched).toLocaleString('en')} events/s`);
  console.log(`AuditTrail.record, 1 per call     ${Math.round(total / 20 / single).toLocaleString('en')} events/s`);
  console.log(
    `plain insert of the same rows     ${Math.round(total / plain).toLocaleString('en')} events/s (baseline)`,
  );
}

async function seedLog(ctx: Ctx, orgId: string, upTo: number) {
  let size = await ctx.audit.size(orgId);
  while (size < upTo) {
    const n = Math.min(1000, upTo - size);
    await ctx.trail.record(
      ...Array.from({ length: n }, (_, k) => ({
        orgId,
        action: k % 7 ? 'tool.call' : 'session.prompt',
        target: { kind: 'session', id: `s${(size + k) % 50}` },
        actor: { kind: 'user' as const, id: `u${(size + k) % 5}` },
        details: { n: size + k },
        content: { text: `content ${size + k}` },
      })),
    );
    size += n;
  }
}

/** Child: one export of the org's whole log; prints its figures as JSON. */
async function childExport() {
  const ctx = await context(flags['database-url']!, flags.home!);
  const orgId = flags.org!;
  const t0 = process.hrtime.bigint();
  const view = await ctx.exports.request(
    { orgId, userId: randomUUID(), name: 'bench', email: 'bench@bench.local', role: 'auditor' },
    { format: 'jsonl' },
  );
  for (;;) {
    const row = await ctx.audit.findExport(orgId, view.id);
    if (row?.status === 'done' || row?.status === 'failed') {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      console.log(
        JSON.stringify({
          status: row.status,
          error: row.error,
          path: row.path,
          events: Number(row.events),
          seconds,
          maxRssKb: process.resourceUsage().maxRSS,
        }),
      );
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await ctx.app.close();
}

async function exportPhase(ctx: Ctx, databaseUrl: string, home: string) {
  const big = Number(flags.export);
  if (!big) return;
  const org = await ctx.prisma.org.create({ data: { slug: `bench-${randomUUID().slice(0, 8)}`, name: 'bench' } });
  console.log(`\n3. export (seeding ${big.toLocaleString('en')} events through AuditTrail.record…)`);
  const results: { n: number; seconds: number; rss: number; bytes: number; verify: number }[] = [];
  for (const n of [big / 10, big]) {
    const t0 = Date.now();
    await seedLog(ctx, org.id, n);
    console.log(`   seeded to ${n.toLocaleString('en')} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const out = execFileSync(
      process.execPath,
      [
        '-r',
        './bench/register.js',
        'bench/audit.ts',
        '--child-export',
        '1',
        '--database-url',
        databaseUrl,
        '--org',
        org.id,
        '--home',
        home,
      ],
      { encoding: 'utf8', maxBuffer: 1 << 20, env: { ...process.env, YOKE_BENCH_SECRET: SECRET } },
    );
    const r = JSON.parse(out.trim().split('\n').pop()!) as {
      status: string;
      error: string | null;
      path: string;
      events: number;
      seconds: number;
      maxRssKb: number;
    };
    if (r.status !== 'done') throw new Error(`export failed: ${r.error}`);
    const v0 = process.hrtime.bigint();
    const report = await verifyBundle(r.path);
    const verifySeconds = Number(process.hrtime.bigint() - v0) / 1e9;
    if (!report.ok) throw new Error(`the export does not verify: ${report.message}`);
    results.push({
      n: r.events,
      seconds: r.seconds,
      rss: r.maxRssKb / 1024,
      bytes: statSync(r.path).size,
      verify: report.events / verifySeconds,
    });
  }
  console.log('events       export s   events/s   peak RSS MB   bundle MB   verify events/s');
  for (const r of results) {
    console.log(
      `${r.n.toLocaleString('en').padEnd(12)}${r.seconds.toFixed(1).padStart(9)}${Math.round(r.n / r.seconds)
        .toLocaleString('en')
        .padStart(
          11,
        )}${r.rss.toFixed(0).padStart(14)}${(r.bytes / 1048576).toFixed(1).padStart(12)}${Math.round(r.verify).toLocaleString('en').padStart(18)}`,
    );
  }
  const ratio = results[1].rss / results[0].rss;
  console.log(
    `peak RSS ratio ${ratio.toFixed(2)}x — target ≤ ${TARGET_RSS_RATIO}x: ${ratio <= TARGET_RSS_RATIO ? 'PASS' : 'FAIL'}`,
  );
}

async function main() {
  if (flags['child-export']) return childExport();
  const db = await createTestDatabase();
  const home = mkdtempSync(join(tmpdir(), 'yoke-bench-audit-'));
  try {
    await runMigrations(db.url);
    const ctx = await context(db.url, home);
    console.log(
      `bench/audit — ${os.cpus().length} cores, load ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}, Node ${process.version}`,
    );
    await itemBatches(ctx);
    await appendThroughput(ctx);
    await exportPhase(ctx, db.url, home);
    console.log(
      `\nload at the end: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    await ctx.app.close();
  } finally {
    await db.drop();
    rmSync(home, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
