/**
 * The floor of an HTTP answer from Yoke's server: routes that do no work of their own (`GET /health`, and `GET
 * /api/v1/me`, answered from the authenticated principal), against a bare `node:http` handler answering the same JSON,
 * interleaved in one run over one keep-alive connection each. What a route adds over the bare handler is the price
 * of the framework's request pipeline (Express' router and middleware, Nest's guards, interceptors and reply, the
 * request log), paid by every read before it does anything; the read journeys' ratios (`bench:journeys`) are measured
 * against a minimal handler without it.
 *
 *   npm run bench:http-floor -- [--runs 3000] [--warmup 300] [--cpu-prof DIR]
 *
 * Team mode (Postgres and Redis), `npm run build` first. Prints p50/p95 per route and what each adds. Never a test.
 */
import { Agent, createServer, request } from 'node:http';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { startStack } from '../test/support/stack';
import { pct, sorted } from './journeys/report';

const { values: flags } = parseArgs({
  options: {
    runs: { type: 'string', default: '3000' },
    warmup: { type: 'string', default: '300' },
    'cpu-prof': { type: 'string' },
  },
});
const runs = Number(flags.runs);
const warmup = Number(flags.warmup);

const agents = new Map<string, Agent>();
function get(url: string, token?: string): Promise<number> {
  const origin = new URL(url).origin;
  let agent = agents.get(origin);
  if (!agent) agents.set(origin, (agent = new Agent({ keepAlive: true, maxSockets: 1 })));
  return new Promise<number>((resolve, reject) => {
    const t0 = performance.now();
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    const req = request(url, { headers, agent }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`${url}: ${res.statusCode}`));
      res.resume();
      res.on('end', () => resolve(performance.now() - t0));
    });
    req.on('error', reject);
    req.end();
  });
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function main() {
  console.log(`load at start: ${load()}`);
  const prof = flags['cpu-prof'];
  const stack = await startStack(
    'team',
    prof ? { NODE_OPTIONS: `-r ${__dirname}/journeys/cpu-profile.js`, YOKE_BENCH_CPU_PROF: prof } : {},
  );
  const bare = createServer((_req, res) => {
    const body = JSON.stringify({ status: 'ok' });
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', () => r()));
  const bareUrl = `http://127.0.0.1:${(bare.address() as { port: number }).port}/health`;
  const cases: { name: string; url: string; token?: string }[] = [
    { name: 'bare node:http', url: bareUrl },
    { name: 'GET /health', url: `${stack.url}/health` },
    { name: 'GET /api/v1/me', url: `${stack.url}/api/v1/me`, token: stack.token },
  ];
  const times = new Map(cases.map((c) => [c.name, [] as number[]]));
  try {
    for (let i = 0; i < warmup + runs; i++) {
      for (const c of cases) {
        const ms = await get(c.url, c.token);
        if (i >= warmup) times.get(c.name)!.push(ms);
      }
    }
  } finally {
    await stack.stop();
    bare.close();
    for (const a of agents.values()) a.destroy();
  }
  const base = pct(sorted(times.get('bare node:http')!), 50);
  console.log(`\n${'answer'.padEnd(18)} ${'p50 ms'.padStart(8)} ${'p95 ms'.padStart(8)}  added p50`);
  for (const c of cases) {
    const a = sorted(times.get(c.name)!);
    const added =
      c.name === 'bare node:http' ? '–' : `+${(pct(a, 50) - base).toFixed(3)} ms (${(pct(a, 50) / base).toFixed(1)}x)`;
    console.log(
      `${c.name.padEnd(18)} ${pct(a, 50).toFixed(3).padStart(8)} ${pct(a, 95).toFixed(3).padStart(8)}  ${added}`,
    );
  }
  console.log(`\n${runs} runs each after ${warmup} untimed, interleaved · load at end ${load()} · 2 cores`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
