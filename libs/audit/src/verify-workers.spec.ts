import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { canonicalJson } from './canonical';
import { leafHash } from './merkle';
import { type Line, TestBundles } from './testing/bundles';
import { type VerifyReport, verifyBundle } from './verify';

/**
 * The worker-thread path of verifyBundle against the one-thread path, on bundles of several worker batches.
 * Workers load TypeScript through the require hook of a child process (jest's transform does not reach them).
 */
const ROOT = resolve(__dirname, '../../..');
const SIZE = 3000;

let dir: string;
let bundles: TestBundles;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'yoke-audit-workers-'));
  bundles = new TestBundles(dir, SIZE);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function verifyWithWorkers(files: string[]): VerifyReport[] {
  const code = `
    const { verifyBundle } = require(${JSON.stringify(join(ROOT, 'libs/audit/src/verify.ts'))});
    (async () => {
      const out = [];
      for (const f of JSON.parse(process.argv[1])) out.push(await verifyBundle(f, { workers: 2 }));
      process.stdout.write(JSON.stringify(out));
    })().catch((e) => { console.error(e); process.exit(1); });`;
  const out = execFileSync(
    process.execPath,
    ['-r', join(ROOT, 'bench/register.js'), '-e', code, JSON.stringify(files)],
    {
      encoding: 'utf8',
      maxBuffer: 16 << 20,
    },
  );
  return JSON.parse(out) as VerifyReport[];
}

const verdict = (r: VerifyReport) =>
  r.ok ? { ok: true, events: r.events, redacted: r.redacted } : { seq: r.seq, kind: r.kind };

it('finds the same as the one-thread path, on every batch', async () => {
  const intact = await bundles.build({ format: 'csv' });
  const filtered = await bundles.build({ format: 'ocsf', filters: { actor: 'a' }, pick: (s) => s % 3 !== 0 });
  const at = (seq: number) => seq - 1;
  const renumbered = (l: Line, by: number): Line => ({ ...l, seq: l.seq + by, event: { ...l.event, seq: l.seq + by } });
  const cases: Record<string, string> = {
    intact,
    filtered,
    edited: await bundles.tamper(intact, (l) => {
      l[at(2500)].event = { ...l[at(2500)].event, outcome: 'failed' };
      return l;
    }),
    missing: await bundles.tamper(intact, (l) => l.filter((x) => x.seq !== 1700)),
    renumberedAfterDeletion: await bundles.tamper(intact, (l) =>
      l.filter((x) => x.seq !== 1701).map((x) => (x.seq > 1701 ? renumbered(x, -1) : x)),
    ),
    reordered: await bundles.tamper(intact, (l) => [
      ...l.slice(0, at(999)),
      l[at(1000)],
      l[at(999)],
      ...l.slice(at(1001)),
    ]),
    inserted: await bundles.tamper(intact, (l) => {
      const forged = { ...l[at(1300)].event, action: 'auth.sign_in' };
      const line: Line = {
        seq: 1300,
        leaf: leafHash(canonicalJson(forged)).toString('hex'),
        event: forged,
        content: null,
      };
      return [...l.slice(0, at(1300)), line, ...l.slice(at(1300), -1).map((x) => renumbered(x, 1))];
    }),
  };
  const p = await bundles.parts(intact);
  const csv = p.get('events.csv')!.toString('utf8');
  const row = csv.indexOf('\r\n1200,') + 2;
  p.set('events.csv', Buffer.from(`${csv.slice(0, row + 10)}X${csv.slice(row + 11)}`));
  cases.badView = await bundles.repack(p);

  const names = Object.keys(cases);
  const threaded = verifyWithWorkers(names.map((n) => cases[n]));
  const oneThread = await Promise.all(names.map((n) => verifyBundle(cases[n], { workers: 0 })));
  const result = Object.fromEntries(names.map((n, i) => [n, verdict(threaded[i])]));
  expect(result).toEqual(Object.fromEntries(names.map((n, i) => [n, verdict(oneThread[i])])));
  expect(result).toEqual({
    intact: { ok: true, events: SIZE, redacted: { count: 100, rules: ['retention-90d'] } },
    filtered: { ok: true, events: 2000, redacted: { count: 0, rules: [] } },
    edited: { seq: 2500, kind: 'edited' },
    missing: { seq: 1700, kind: 'missing' },
    renumberedAfterDeletion: { seq: 1701, kind: 'missing' },
    reordered: { seq: 999, kind: 'reordered' },
    inserted: { seq: 1300, kind: 'inserted' },
    badView: { seq: 1200, kind: 'bad_view' },
  });
}, 60_000);
