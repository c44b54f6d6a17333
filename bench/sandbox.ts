/**
 * bench/sandbox: what Omnibox adds to starting a process. Spawns `true` bare and inside Omnibox (bwrap namespaces +
 * seccomp, no network), then inside Omnibox with the network bridge (node forwarder + IPC channel to the proxy),
 * interleaved, and prints medians/p95 and the added milliseconds and ratio. Prints figures; never a test. Exit 0
 * whatever the figures; 1 when a sandboxed `true` does not exit 0 (the sandbox does not work here).
 *
 *   node -r ./bench/register.js bench/sandbox.ts [--runs 50] [--warmup 5]
 *
 * Targets: ≤ 5 ms added for `true` inside Omnibox without network, ≤ 15 ms with the network bridge.
 *
 * Where the added time goes, from cases in the same interleaved runs:
 * - `omnibox, args only`: Omnibox's own preparation (support files, deny list, bwrap arguments, the seccomp program
 *   written to its pipe) with `/bin/true` in place of bwrap: what the JS side costs, no namespaces.
 * - `bwrap, minimal`: bwrap with every namespace unshared and nothing but `/` bound read-only, `/dev` and `/proc`:
 *   the kernel's floor for a new set of namespaces on this machine.
 * - `node -e 0`: a bare Node start, which the network bridge (a Node process) pays before the command.
 * - `node, network` and `node, network hosted`: `node -e 0` networked, under the bridge process and hosting the
 *   bridge's listener itself (`SandboxNetwork.hostBridge`, Yoke's own agent processes), against a bare `node -e 0`.
 * The rest of `omnibox` over those is bwrap's mounts (one per bind, overlay and hidden path) and the seccomp load.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EgressProxy, spawnSandboxed } from '../libs/omnibox/src';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '50' }, warmup: { type: 'string', default: '5' } },
});
const RUNS = Number(values.runs);
const WARMUP = Number(values.warmup);

const exited = (child: { on: (e: 'close', cb: (code: number | null) => void) => void }): Promise<number | null> =>
  new Promise((resolve) => child.on('close', resolve));

async function time(start: () => Promise<number | null>): Promise<number> {
  const t0 = process.hrtime.bigint();
  const code = await start();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (code !== 0) {
    process.stderr.write(`a run exited ${code}: the sandbox does not work here (see \`yoke sandbox check\`)\n`);
    process.exit(1);
  }
  return ms;
}

const stats = (xs: number[]): { median: number; p95: number } => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], p95: s[Math.min(s.length - 1, Math.floor(s.length * 0.95))] };
};

async function main(): Promise<void> {
  const workspace = mkdtempSync(join(os.tmpdir(), 'yoke-bench-sandbox-'));
  const proxy = new EgressProxy({ allow: [] });
  const cases: Record<string, () => Promise<number | null>> = {
    bare: () => exited(spawn('/bin/true', [], { stdio: 'ignore' })),
    omnibox: () => exited(spawnSandboxed('/bin/true', [], { workspace, stdio: 'ignore' })),
    'omnibox+network': () =>
      exited(
        spawnSandboxed('/bin/true', [], { workspace, stdio: 'ignore', network: { proxy: proxy.handleConnection } }),
      ),
    'omnibox, args only': () =>
      exited(spawnSandboxed('/bin/true', [], { workspace, stdio: 'ignore', bwrap: '/bin/true' })),
    'bwrap, minimal': () =>
      exited(
        spawn(
          'bwrap',
          [
            '--ro-bind',
            '/',
            '/',
            '--dev',
            '/dev',
            '--proc',
            '/proc',
            '--unshare-all',
            '--die-with-parent',
            '/bin/true',
          ],
          { stdio: 'ignore' },
        ),
      ),
    // With the sandbox's kind of environment: one that names NODE_EXTRA_CA_CERTS (as this machine's does) would have
    // node read a CA bundle first, ~35 ms, and no sandbox here does.
    'node -e 0': () =>
      exited(spawn(process.execPath, ['-e', '0'], { stdio: 'ignore', env: { PATH: process.env.PATH ?? '' } })),
    // A node command (what every harness is), networked: under the bridge process, and hosting the bridge itself.
    'node, network': () =>
      exited(
        spawnSandboxed(process.execPath, ['-e', '0'], {
          workspace,
          stdio: 'ignore',
          network: { proxy: proxy.handleConnection },
        }),
      ),
    'node, network hosted': () =>
      exited(
        spawnSandboxed(process.execPath, ['-e', '0'], {
          workspace,
          stdio: 'ignore',
          network: { proxy: proxy.handleConnection, hostBridge: true },
        }),
      ),
  };
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let i = 0; i < WARMUP; i++) for (const run of Object.values(cases)) await time(run);
  for (let i = 0; i < RUNS; i++) {
    for (const [name, run] of Object.entries(cases)) samples[name].push(await time(run));
  }
  await proxy.close();
  rmSync(workspace, { recursive: true, force: true });

  const bare = stats(samples.bare);
  process.stdout.write(
    `sandbox spawn overhead: \`true\`, ${RUNS} runs each (interleaved, ${WARMUP} warm-up), ${os.cpus().length} CPUs, ` +
      `load ${os.loadavg()[0].toFixed(2)}\n`,
  );
  for (const [name, xs] of Object.entries(samples)) {
    const s = stats(xs);
    // A node command is measured against a bare node start.
    const base = name.startsWith('node,') ? stats(samples['node -e 0']) : bare;
    const added = s.median - base.median;
    process.stdout.write(
      `  ${name.padEnd(20)} median ${s.median.toFixed(1).padStart(6)} ms  p95 ${s.p95.toFixed(1).padStart(6)} ms` +
        (name === 'bare' ? '' : `  added ${added.toFixed(1)} ms  ratio ${(s.median / base.median).toFixed(1)}x`) +
        '\n',
    );
  }
  const added = stats(samples.omnibox).median - bare.median;
  const addedNetwork = stats(samples['omnibox+network']).median - bare.median;
  const median = (name: string) => stats(samples[name]).median - bare.median;
  process.stdout.write(
    `where omnibox's ${added.toFixed(1)} ms go: its own preparation ${median('omnibox, args only').toFixed(1)} ms, ` +
      `new namespaces (bwrap, minimal) ${median('bwrap, minimal').toFixed(1)} ms, bwrap's mounts and seccomp the ` +
      `rest ${(added - median('omnibox, args only') - median('bwrap, minimal')).toFixed(1)} ms; the network bridge ` +
      `adds ${(addedNetwork - added).toFixed(1)} ms more, a bare Node start being ${median('node -e 0').toFixed(1)} ms\n`,
  );
  process.stdout.write(`target: ≤ 5 ms added (omnibox, no network) — ${added <= 5 ? 'PASS' : 'FAIL'}\n`);
  process.stdout.write(
    `target: ≤ 15 ms added (omnibox + network), \`true\` under the bridge process — ${addedNetwork <= 15 ? 'PASS' : 'FAIL'}\n`,
  );
  const node = stats(samples['node -e 0']).median;
  const hosted = stats(samples['node, network hosted']).median - node;
  const bridged = stats(samples['node, network']).median - node;
  process.stdout.write(
    `target: ≤ 15 ms added (omnibox + network), a node command hosting the bridge (Yoke's agent processes; ` +
      `${bridged.toFixed(1)} ms under the bridge process) — ${hosted.toFixed(1)} ms: ${hosted <= 15 ? 'PASS' : 'FAIL'}\n`,
  );
}

void main();
