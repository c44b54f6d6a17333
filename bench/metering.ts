/**
 * bench/metering: what reading the provider's usage at the egress proxy costs a streamed model response. Prints
 * figures; never a test. Exit 0 whatever the figures; 1 only when the run itself is wrong (a request failed, a
 * metered call went missing or read other tokens than the fake model sent).
 *
 *   npm run bench:metering -- [flags]
 *     --runs 300       measured requests per variant, the three variants interleaved
 *     --warmup 30      unmeasured requests per variant first
 *     --text 4000      characters of answer text (streamed as three deltas)
 *     --tools 6        tool calls in the answer (each a few more events)
 *
 * One streamed Anthropic Messages answer from the fake model server (test/fixtures/fake-model), all in this process,
 * fetched three ways: direct (no proxy), through an EgressProxy without `onMetered`, and through one with it. For
 * each: time to the first body byte (the `message_start` event) and to the end of the stream, p50 / p95 / p99, and
 * what metering adds at p50 against the proxy without it. Target: ≤ 1 ms added at p50.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EgressProxy, type MeteredCall } from '../libs/omnibox/src/index';
import { startFakeModel } from '../test/fixtures/fake-model';

const TARGET_ADDED_P50_MS = 1;
const USAGE = { inputTokens: 12_000, outputTokens: 900, cachedTokens: 10_000 };

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '300' },
    warmup: { type: 'string', default: '30' },
    text: { type: 'string', default: '4000' },
    tools: { type: 'string', default: '6' },
    help: { type: 'boolean', default: false },
  },
});

if (flags.help) {
  console.log(readFileSync(__filename, 'utf8').split('*/')[0]);
  process.exit(0);
}

function num(name: 'runs' | 'warmup' | 'text' | 'tools', min: number, max: number): number {
  const v = Number(flags[name]);
  if (!Number.isInteger(v) || v < min || v > max) throw new Error(`--${name} must be an integer in [${min}, ${max}]`);
  return v;
}

const RUNS = num('runs', 10, 100_000);
const WARMUP = num('warmup', 0, 100_000);
const TEXT = num('text', 0, 10_000_000);
const TOOLS = num('tools', 0, 1000);

interface Timing {
  firstByteMs: number;
  totalMs: number;
  bytes: number;
}

/** One streamed Messages request: through the proxy's socket (absolute URL) or straight to the fake model. */
function fetchOnce(target: { socketPath: string } | { port: number }, body: Buffer): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const ms = (): number => Number(process.hrtime.bigint() - start) / 1e6;
    const where =
      'socketPath' in target
        ? { socketPath: target.socketPath, path: 'http://api.anthropic.com/v1/messages' }
        : { host: '127.0.0.1', port: target.port, path: '/v1/messages' };
    const req = request(
      {
        ...where,
        method: 'POST',
        agent: false,
        headers: { host: 'api.anthropic.com', 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        let firstByteMs = -1;
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          if (firstByteMs < 0) firstByteMs = ms();
          bytes += c.length;
        });
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
          else resolve({ firstByteMs, totalMs: ms(), bytes });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function stats(values: number[]): { p50: number; p95: number; p99: number } {
  const sorted = Float64Array.from(values).sort();
  return { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99) };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'yoke-bench-metering-'));
  const fake = await startFakeModel();
  const fakePort = Number(new URL(fake.url).port);
  const text = 'The quick brown fox, ça va, jumps over the lazy dog. '.repeat(Math.ceil(TEXT / 53)).slice(0, TEXT);
  const toolCalls = Array.from({ length: TOOLS }, (_, i) => ({
    name: 'read_file',
    input: { path: `src/file-${i}.ts` },
  }));
  fake.script([{ match: 'bench', steps: [{ text, toolCalls, usage: USAGE }] }]);
  const body = Buffer.from(
    JSON.stringify({
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      stream: true,
      messages: [{ role: 'user', content: 'bench' }],
    }),
  );

  const metered: MeteredCall[] = [];
  const resolve = async (): Promise<{ host: string; port: number }> => ({ host: '127.0.0.1', port: fakePort });
  const plainProxy = new EgressProxy({ allow: ['api.anthropic.com'], resolve });
  const meteringProxy = new EgressProxy({
    allow: ['api.anthropic.com'],
    resolve,
    onMetered: (call) => metered.push(call),
  });
  const plainSocket = join(dir, 'plain.sock');
  const meteringSocket = join(dir, 'metering.sock');
  await plainProxy.listen(plainSocket);
  await meteringProxy.listen(meteringSocket);

  const variants = [
    { name: 'direct (no proxy)', target: { port: fakePort } },
    { name: 'proxy, no onMetered', target: { socketPath: plainSocket } },
    { name: 'proxy, onMetered', target: { socketPath: meteringSocket } },
  ];
  const results = variants.map(() => ({ firstByte: [] as number[], total: [] as number[], bytes: 0 }));
  try {
    for (let i = 0; i < WARMUP + RUNS; i++) {
      // rotate which variant goes first, so none always follows the same one
      for (let k = 0; k < variants.length; k++) {
        const v = (i + k) % variants.length;
        const t = await fetchOnce(variants[v].target, body);
        if (i < WARMUP) continue;
        results[v].firstByte.push(t.firstByteMs);
        results[v].total.push(t.totalMs);
        results[v].bytes = t.bytes;
      }
    }
    // the last call's report comes just after its response ended
    for (let wait = 0; metered.length < WARMUP + RUNS && wait < 100; wait++)
      await new Promise((r) => setTimeout(r, 10));
    const wrong = metered.filter(
      (c) => c.inputTokens !== USAGE.inputTokens - USAGE.cachedTokens || c.outputTokens !== USAGE.outputTokens,
    );
    if (metered.length !== WARMUP + RUNS || wrong.length > 0) {
      throw new Error(`metered ${metered.length} calls of ${WARMUP + RUNS}, ${wrong.length} with other tokens`);
    }
  } finally {
    await plainProxy.close();
    await meteringProxy.close();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const fmt = (n: number): string => n.toFixed(3).padStart(8);
  console.log(
    `bench/metering — ${os.cpus().length} cores, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, node ${process.version}`,
  );
  console.log(
    `one streamed Anthropic answer: ${results[0].bytes} bytes, ${TOOLS} tool calls; ${RUNS} runs per variant (+${WARMUP} warm-up), interleaved\n`,
  );
  console.log(`${'variant'.padEnd(22)}  first byte ms: p50      p95      p99 |  total ms: p50      p95      p99`);
  const summary = results.map((r) => ({ firstByte: stats(r.firstByte), total: stats(r.total) }));
  variants.forEach((v, i) => {
    const { firstByte: f, total: t } = summary[i];
    console.log(
      `${v.name.padEnd(22)}  ${' '.repeat(9)}${fmt(f.p50)} ${fmt(f.p95)} ${fmt(f.p99)} | ${' '.repeat(5)}${fmt(t.p50)} ${fmt(t.p95)} ${fmt(t.p99)}`,
    );
  });
  const addedFirst = summary[2].firstByte.p50 - summary[1].firstByte.p50;
  const addedTotal = summary[2].total.p50 - summary[1].total.p50;
  console.log(
    `\nmetering adds at p50: ${addedFirst.toFixed(3)} ms to the first byte, ${addedTotal.toFixed(3)} ms to the whole stream ` +
      `(target ≤ ${TARGET_ADDED_P50_MS} ms: ${Math.max(addedFirst, addedTotal) <= TARGET_ADDED_P50_MS ? 'met' : 'NOT met'})`,
  );
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
