import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  type AuditEvent,
  type AuditSinkView,
  type CreatedAuditSink,
  SINK_DELIVERY_HEADER,
  SINK_SIGNATURE_HEADER,
  SINK_TIMESTAMP_HEADER,
} from '@yoke/protocol';
import { expectEventually } from '../support/env';
import { freePort, type Proc } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

type Delivery = { header: string; seqs: number[]; events: AuditEvent[] };

/**
 * Streaming the audit log loses nothing (team mode, a BullMQ worker): a signed webhook receiver and an OTLP/HTTP logs
 * receiver get events as the API makes them; the webhook goes away (connection refused) while more events are made,
 * comes back hanging, and the worker is killed (SIGKILL) while a delivery waits on it; more events are made with no
 * worker; then the receiver answers again and a new worker starts. In the end every seq 1..N reached both receivers;
 * each webhook delivery is in seq order and correctly signed, and an event received twice is the same event (same id).
 */
describe('audit sinks: at least once, in order, through a dead receiver and a killed worker', () => {
  let stack: Stack;
  let worker: Proc;
  let secret = '';
  let webhookPort = 0;
  let webhook: Server | null = null;
  /** `hang`: requests are held unanswered (a delivery in flight when the worker dies). */
  let mode: 'up' | 'hang' = 'up';
  const hung: ServerResponse[] = [];
  const deliveries: Delivery[] = [];
  const problems: string[] = [];
  const webhookSeen = new Map<number, string>();
  let otlp: Server;
  let otlpUrl = '';
  const otlpSeen = new Map<number, string>();
  const otlpContentTypes = new Set<string>();

  const api = <T>(method: string, path: string, body?: unknown) => stack.api<T>(method, path, body);
  const size = async () => (await api<{ size: number }>('GET', '/audit/status')).body.size;
  const sinks = async () => (await api<AuditSinkView[]>('GET', '/audit/sinks')).body;
  const makeEvents = async (n: number, tag: string) => {
    for (let i = 0; i < n; i++) {
      const r = await api('POST', '/tokens', { name: `${tag}-${i}` });
      expect(r.status).toBe(201);
    }
  };
  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  /** The receiver a SIEM would run: checks the signature and the timestamp, records what arrived. */
  const receive = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const ts = String(req.headers[SINK_TIMESTAMP_HEADER] ?? '');
    const given = Buffer.from(String(req.headers[SINK_SIGNATURE_HEADER] ?? ''));
    const expected = Buffer.from(`v1=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) problems.push(`bad signature: ${given}`);
    if (Math.abs(Date.now() / 1000 - Number(ts)) > 300) problems.push(`stale timestamp ${ts}`);
    const events = (JSON.parse(body) as { events: AuditEvent[] }).events;
    const seqs = events.map((e) => e.seq);
    const header = String(req.headers[SINK_DELIVERY_HEADER]);
    if (header !== `${seqs[0]}-${seqs[seqs.length - 1]}`) problems.push(`delivery header ${header} for ${seqs.join()}`);
    seqs.forEach((s, i) => i > 0 && s !== seqs[i - 1] + 1 && problems.push(`out of order: ${seqs.join()}`));
    for (const e of events) {
      const before = webhookSeen.get(e.seq);
      if (before !== undefined && before !== e.id) problems.push(`seq ${e.seq} arrived as ${before} and as ${e.id}`);
      webhookSeen.set(e.seq, e.id);
    }
    deliveries.push({ header, seqs, events });
    // A receiver that took the events but never answered: the sender must send them again.
    if (mode === 'hang') hung.push(res);
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  };

  const startWebhook = async () => {
    webhook = createServer((req, res) => void receive(req, res));
    await new Promise<void>((r) => webhook!.listen(webhookPort, '127.0.0.1', r));
  };
  const stopWebhook = async () => {
    const s = webhook!;
    webhook = null;
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  };

  beforeAll(async () => {
    webhookPort = await freePort();
    await startWebhook();
    otlp = createServer((req, res) => {
      void readBody(req).then((body) => {
        otlpContentTypes.add(String(req.headers['content-type']));
        type AnyValue = { stringValue?: string; intValue?: number | string };
        type Record_ = { body?: AnyValue; attributes?: { key: string; value: AnyValue }[] };
        const payload = JSON.parse(body) as { resourceLogs: { scopeLogs: { logRecords: Record_[] }[] }[] };
        for (const rl of payload.resourceLogs)
          for (const sl of rl.scopeLogs)
            for (const rec of sl.logRecords) {
              const attr = (k: string) => rec.attributes?.find((a) => a.key === k)?.value;
              const seq = Number(attr('yoke.audit.seq')?.intValue);
              const id = String(attr('yoke.audit.id')?.stringValue);
              const ocsf = JSON.parse(rec.body?.stringValue ?? '{}') as {
                metadata?: { uid?: string; sequence?: number };
              };
              if (ocsf.metadata?.uid !== id || ocsf.metadata.sequence !== seq)
                problems.push(`otlp record ${seq} ${id}`);
              if (!attr('event.name')?.stringValue) problems.push(`otlp record ${seq} without event.name`);
              otlpSeen.set(seq, id);
            }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => otlp.listen(0, '127.0.0.1', r));
    otlpUrl = `http://127.0.0.1:${(otlp.address() as { port: number }).port}/v1/logs`;
    stack = await startStack('team', { YOKE_SECRET_KEY: randomBytes(32).toString('base64url') });
    worker = await stack.startWorker();
  });

  afterAll(async () => {
    for (const res of hung) res.destroy();
    await stack?.stop();
    if (webhook) await stopWebhook();
    await new Promise((r) => otlp?.close(r));
  });

  it('delivers every event 1..N to a webhook and an OTLP logs endpoint', async () => {
    await makeEvents(3, 'before');
    const hook = await api<CreatedAuditSink>('POST', '/audit/sinks', {
      name: 'siem',
      kind: 'webhook',
      url: `http://127.0.0.1:${webhookPort}/yoke`,
      fromSeq: 1,
    });
    expect(hook.status).toBe(201);
    secret = hook.body.secret!;
    const logs = await api<CreatedAuditSink>('POST', '/audit/sinks', {
      name: 'collector',
      kind: 'otlp_logs',
      url: otlpUrl,
      format: 'ocsf',
      fromSeq: 1,
    });
    expect(logs.status).toBe(201);
    expect(logs.body.secret).toBeNull();
    await makeEvents(5, 'live');
    let n = await size();
    await expectEventually(() => webhookSeen.size === n && otlpSeen.size === n, 60_000);

    // The receiver goes away: deliveries fail, the sink says so, events keep coming.
    await stopWebhook();
    await makeEvents(10, 'down');
    const failing = await expectEventually(async () => {
      const s = (await sinks()).find((x) => x.id === hook.body.sink.id);
      return s?.health === 'failing' ? s : null;
    }, 60_000);
    expect(failing.lastError).toMatch(/ECONNREFUSED|fetch failed/);
    expect(failing.failingSince).not.toBeNull();
    expect(failing.lag).toBeGreaterThanOrEqual(10);

    // It comes back but holds the next delivery unanswered; the worker dies while it waits.
    mode = 'hang';
    const heldBefore = deliveries.length;
    await startWebhook();
    await expectEventually(() => deliveries.length > heldBefore, 90_000);
    await worker.kill('SIGKILL');
    for (const res of hung.splice(0)) res.destroy();
    mode = 'up';
    await makeEvents(5, 'no-worker');

    // A new worker finds the delivery its predecessor left (BullMQ's stalled-job check) and catches up.
    worker = await stack.startWorker();
    n = await size();
    await expectEventually(() => webhookSeen.size === n && otlpSeen.size === n, 150_000, 250);

    const all = Array.from({ length: n }, (_, i) => i + 1);
    expect([...webhookSeen.keys()].sort((a, b) => a - b)).toEqual(all);
    expect([...otlpSeen.keys()].sort((a, b) => a - b)).toEqual(all);
    // Both receivers name every seq with the same event id.
    for (const s of all) expect(otlpSeen.get(s)).toBe(webhookSeen.get(s));
    expect(problems).toEqual([]);
    // Never past an event not yet received: each delivery starts at or before the next seq not seen so far.
    let seenUpTo = 0;
    for (const d of deliveries) {
      expect(d.seqs[0]).toBeLessThanOrEqual(seenUpTo + 1);
      seenUpTo = Math.max(seenUpTo, d.seqs[d.seqs.length - 1]);
    }
    // The held delivery was sent again: a duplicate, with the same ids.
    const counts = new Map<number, number>();
    for (const d of deliveries) for (const s of d.seqs) counts.set(s, (counts.get(s) ?? 0) + 1);
    expect([...counts.values()].some((c) => c > 1)).toBe(true);
    expect(otlpContentTypes).toEqual(new Set(['application/json']));

    const views = await expectEventually(async () => {
      const all_ = await sinks();
      return all_.every((s) => s.lag === 0 && s.health === 'idle') ? all_ : null;
    }, 30_000);
    for (const v of views) expect(v).toMatchObject({ cursor: n, lastError: null, failingSince: null });
  }, 420_000);
});
