/**
 * bench/profile-summary: where a V8 CPU profile (`node --cpu-prof`) spent its time, by package: self time summed per
 * `node_modules/<package>`, per Yoke app or library, Node's own internals, the garbage collector and the rest. Idle
 * time is left out of the shares. Prints a table; never a test.
 *
 *   node -r ./bench/register.js bench/profile-summary.ts <file.cpuprofile>... [--top 20]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

type ProfileNode = { id: number; callFrame: { url: string; functionName: string }; hitCount?: number };
type Profile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

/** The bucket a script belongs to: its npm package, the Yoke app or library, Node's internals, or V8's own work. */
export function bucketOf(url: string, functionName: string): string {
  if (!url) {
    if (functionName === '(idle)') return '(idle)';
    if (functionName === '(garbage collector)') return '(garbage collector)';
    return functionName.startsWith('(') ? functionName : '(native)';
  }
  if (url.startsWith('node:')) return 'node internals';
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const yoke = /\/(apps|libs)\/([^/]+)\//.exec(path);
  if (yoke) return `yoke ${yoke[1]}/${yoke[2]}`;
  return path;
}

function summarize(file: string, top: number): void {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  // Each sample's time is the delta that follows it (V8 records the gap before the next sample).
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node) return;
    const us = profile.timeDeltas[i + 1] ?? 0;
    const bucket = bucketOf(node.callFrame.url, node.callFrame.functionName);
    totals.set(bucket, (totals.get(bucket) ?? 0) + us);
  });
  const idle = totals.get('(idle)') ?? 0;
  totals.delete('(idle)');
  const busy = [...totals.values()].reduce((a, b) => a + b, 0);
  const wall = (profile.endTime - profile.startTime) / 1000;
  console.log(
    `${file}: ${wall.toFixed(0)} ms profiled, ${(busy / 1000).toFixed(0)} ms busy, ${(idle / 1000).toFixed(0)} ms idle`,
  );
  for (const [bucket, us] of [...totals].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(
      `  ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${bucket}`,
    );
  }
}

if (require.main === module) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '20' } },
  });
  if (positionals.length === 0) {
    console.error('usage: node -r ./bench/register.js bench/profile-summary.ts <file.cpuprofile>... [--top 20]');
    process.exit(2);
  }
  for (const file of positionals) summarize(file, Number(values.top));
}
