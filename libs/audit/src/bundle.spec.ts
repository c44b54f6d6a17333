import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BundleWriteError, writeBundle } from './bundle';
import { type BundleManifest, bundlePartNames } from './bundle-format';
import { canonicalJson } from './canonical';
import { eventLeaf, leafHash } from './merkle';
import {
  KEY_A,
  KEY_B,
  keyEntry,
  type Line,
  lineOf,
  linesOf,
  ORG,
  ORIGIN,
  setLines,
  TestBundles,
} from './testing/bundles';
import { fixtureEvent, uuidOf } from './testing/fixtures';
import { type VerifyReport, verifyBundle } from './verify';

const SIZE = 40;
let dir: string;
let bundles: TestBundles;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'yoke-audit-bundle-'));
  bundles = new TestBundles(dir, SIZE);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const build: TestBundles['build'] = (o) => bundles.build(o);
const parts: TestBundles['parts'] = (f) => bundles.parts(f);
const repack: TestBundles['repack'] = (p, fix) => bundles.repack(p, fix);
const tamper: TestBundles['tamper'] = (f, edit, fix) => bundles.tamper(f, edit, fix);
const note = (size: number, key = KEY_A, root?: Buffer): string => bundles.note(size, key, root);
const lines = linesOf;
let counter = 0;

const failure = (r: VerifyReport): { seq: number | null; kind: string } | 'ok' =>
  r.ok ? 'ok' : { seq: r.seq, kind: r.kind };

describe('writeBundle + verifyBundle', () => {
  let intact: string;
  beforeAll(async () => {
    intact = await build();
  });

  it('verifies an intact unfiltered export and reports what it holds', async () => {
    const report = await verifyBundle(intact);
    expect(report).toEqual({
      ok: true,
      orgId: ORG,
      format: 'jsonl',
      filters: {},
      events: SIZE,
      range: { fromSeq: 1, toSeq: SIZE },
      checkpoints: 4,
      treeSize: SIZE,
      root: bundles.log.root().toString('base64'),
      redacted: { count: 1, rules: ['retention-90d'] },
      keys: [`yoke-audit-a+${KEY_A.keyHash.toString('hex')}`],
      keysTrusted: false,
      sha256: createHash('sha256').update(readFileSync(intact)).digest('hex'),
    });
    expect(failure(await verifyBundle(intact, { trustedKeys: [KEY_A.vkey] }))).toBe('ok');
  });

  it('lays the parts out as documented', async () => {
    const p = await parts(intact);
    expect([...p.keys()]).toEqual(bundlePartNames('jsonl'));
    const manifest = JSON.parse(p.get('manifest.json')!.toString('utf8')) as BundleManifest;
    expect(manifest).toMatchObject({
      bundle: 'yoke.audit.bundle/1',
      schema: 'yoke.audit/1',
      orgId: ORG,
      origin: ORIGIN,
      format: 'jsonl',
      range: { fromSeq: 1, toSeq: SIZE },
      treeSize: SIZE,
      counts: { events: SIZE, checkpoints: 4, keys: 1 },
    });
    const first = JSON.parse(lines(p)[0]) as Line;
    expect(first.seq).toBe(1);
    expect(first.leaf).toBe(eventLeaf(fixtureEvent(ORG, 1).event).toString('hex'));
    expect(lines(p)[0]).toContain(`"event":${canonicalJson(fixtureEvent(ORG, 1).event)}`);
    const proofs = JSON.parse(p.get('proofs.json')!.toString('utf8'));
    expect(proofs.inclusion).toEqual({ treeSize: SIZE, ranges: [[0, SIZE]], hashes: [] });
    expect(proofs.consistency.from).toBe(10);
    expect(proofs.consistency.to).toBe(SIZE);
  });

  it('verifies filtered exports, with and without events, and the CSV and OCSF views', async () => {
    const filtered = await build({ filters: { actor: 'someone' }, pick: (s) => s % 4 === 1 || (s > 20 && s < 26) });
    const report = await verifyBundle(filtered);
    expect(report.ok && report.events).toBe(10 + 5 - 2);
    expect(report.ok && report.range).toEqual({ fromSeq: 1, toSeq: 37 });
    expect(failure(await verifyBundle(await build({ filters: { actor: 'x' }, pick: () => false })))).toBe('ok');
    for (const format of ['csv', 'ocsf'] as const) {
      expect(failure(await verifyBundle(await build({ format })))).toBe('ok');
      expect(
        failure(await verifyBundle(await build({ format, filters: { actor: 'a' }, pick: (s) => s % 3 === 0 }))),
      ).toBe('ok');
    }
  });

  it('verifies events written in another key order and spacing (the leaf is of their RFC 8785 form)', async () => {
    const reformatted = await tamper(intact, (l) =>
      l.map((x) => {
        const reversed = Object.fromEntries(Object.entries(x.event).reverse());
        return `{ "content": ${JSON.stringify(x.content)}, "event": ${JSON.stringify(reversed, null, 1).replace(/\n/g, ' ')}, "leaf": "${x.leaf}", "seq": ${x.seq} }`;
      }),
    );
    expect(failure(await verifyBundle(reformatted))).toBe('ok');
  });

  describe('names the first tampered event by seq', () => {
    it('an edited field: edited', async () => {
      const edit = (l: Line[]): Line[] => {
        l[6].event = { ...l[6].event, outcome: 'success', action: 'session.deleted' };
        return l;
      };
      expect(failure(await verifyBundle(await tamper(intact, edit)))).toEqual({ seq: 7, kind: 'edited' });
      // Without the manifest updated either: the event is still named, not the part.
      expect(failure(await verifyBundle(await tamper(intact, edit, false)))).toEqual({ seq: 7, kind: 'edited' });
    });

    it('an edited event whose leaf was recomputed too: the proof no longer leads to the signed root', async () => {
      const report = await verifyBundle(
        await tamper(intact, (l) => {
          l[6].event = { ...l[6].event, action: 'session.deleted' };
          l[6].leaf = leafHash(canonicalJson(l[6].event)).toString('hex');
          return l;
        }),
      );
      expect(failure(report)).toEqual({ seq: null, kind: 'bad_proof' });
    });

    it('a deleted line: missing', async () => {
      expect(failure(await verifyBundle(await tamper(intact, (l) => l.filter((x) => x.seq !== 7))))).toEqual({
        seq: 7,
        kind: 'missing',
      });
      expect(failure(await verifyBundle(await tamper(intact, (l) => l.slice(0, -1))))).toEqual({
        seq: SIZE,
        kind: 'missing',
      });
      expect(failure(await verifyBundle(await tamper(intact, (l) => l.slice(1))))).toEqual({ seq: 1, kind: 'missing' });
    });

    it('a deleted line in a filtered export: missing', async () => {
      const filtered = await build({ filters: { sessionId: uuidOf('s') }, pick: (s) => s % 3 === 0 });
      expect(failure(await verifyBundle(await tamper(filtered, (l) => l.filter((x) => x.seq !== 12))))).toEqual({
        seq: 12,
        kind: 'missing',
      });
    });

    it('a deleted line with the later ones renumbered: missing', async () => {
      const report = await verifyBundle(
        await tamper(intact, (l) =>
          l
            .filter((x) => x.seq !== 7)
            .map((x) => (x.seq > 7 ? { ...x, seq: x.seq - 1, event: { ...x.event, seq: x.seq - 1 } } : x)),
        ),
      );
      expect(failure(report)).toEqual({ seq: 7, kind: 'missing' });
    });

    it('two swapped lines: reordered', async () => {
      const swap = (l: Line[]): Line[] => [...l.slice(0, 6), l[7], l[6], ...l.slice(8)];
      expect(failure(await verifyBundle(await tamper(intact, swap)))).toEqual({ seq: 7, kind: 'reordered' });
      const filtered = await build({ filters: { actor: 'a' }, pick: (s) => s % 2 === 0 });
      expect(failure(await verifyBundle(await tamper(filtered, swap)))).toEqual({ seq: 14, kind: 'reordered' });
    });

    it('two swapped events with their seqs rewritten to look in order: reordered', async () => {
      const report = await verifyBundle(
        await tamper(intact, (l) => {
          const [a, b] = [l[6], l[7]];
          l[6] = { ...b, seq: 7, event: { ...b.event, seq: 7 } };
          l[7] = { ...a, seq: 8, event: { ...a.event, seq: 8 } };
          return l;
        }),
      );
      expect(failure(report)).toEqual({ seq: 7, kind: 'reordered' });
    });

    it('a forged line: inserted', async () => {
      const forged = { ...fixtureEvent(ORG, 7).event, id: uuidOf('forged'), action: 'auth.sign_in' };
      const forgedLine = lineOf(forged, leafHash(canonicalJson(forged)).toString('hex'));
      // With a seq of its own taken from the next event.
      const dup = await tamper(intact, (l) => [
        ...l.slice(0, 6).map((x) => lineOf(x.event, x.leaf, x.content)),
        forgedLine,
        ...l.slice(6).map((x) => lineOf(x.event, x.leaf, x.content)),
      ]);
      expect(failure(await verifyBundle(dup))).toEqual({ seq: 7, kind: 'inserted' });
      // With the later events renumbered to make room, its leaf computed or made up.
      for (const leaf of [leafHash(canonicalJson(forged)).toString('hex'), 'ab'.repeat(32)]) {
        const shifted = await tamper(intact, (l) => [
          ...l.slice(0, 6).map((x) => lineOf(x.event, x.leaf, x.content)),
          lineOf(forged, leaf),
          ...l.slice(6, -1).map((x) => lineOf({ ...x.event, seq: x.seq + 1 }, x.leaf, x.content)),
        ]);
        expect(failure(await verifyBundle(shifted))).toEqual({ seq: 7, kind: 'inserted' });
      }
      // An event of the log carrying another seq, in a filtered export where that seq was not exported.
      const filtered = await build({ filters: { actor: 'a' }, pick: (s) => s % 2 === 0 });
      const extra = await tamper(filtered, (l) => {
        const e = fixtureEvent(ORG, 9);
        return [
          ...l.slice(0, 4),
          { seq: 9, leaf: eventLeaf(e.event).toString('hex'), event: e.event, content: e.content } as Line,
          ...l.slice(4),
        ];
      });
      expect(failure(await verifyBundle(extra))).toEqual({ seq: 9, kind: 'inserted' });
    });

    it('an event of another org: inserted', async () => {
      const other = fixtureEvent(uuidOf('other org'), 7);
      const report = await verifyBundle(
        await tamper(intact, (l) => {
          l[6] = { seq: 7, leaf: eventLeaf(other.event).toString('hex'), event: other.event, content: other.content };
          return l;
        }),
      );
      expect(failure(report)).toEqual({ seq: 7, kind: 'inserted' });
    });

    it('a line that is not JSON: malformed at its seq', async () => {
      const report = await verifyBundle(
        await tamper(intact, (l) =>
          l.map((x, i) => (i === 4 ? '{"seq":5,"leaf":' : lineOf(x.event, x.leaf, x.content))),
        ),
      );
      expect(failure(report)).toEqual({ seq: 5, kind: 'malformed' });
      const upper = await tamper(intact, (l) => l.map((x, i) => (i === 5 ? { ...x, leaf: x.leaf.toUpperCase() } : x)));
      expect(failure(await verifyBundle(upper))).toEqual({ seq: 6, kind: 'malformed' });
    });
  });

  describe('byte flips', () => {
    it('one byte of the .tar.gz: malformed archive', async () => {
      const data = readFileSync(intact);
      for (const at of [Math.floor(data.length / 2), data.length - 6, 20]) {
        const bad = Buffer.from(data);
        bad[at] ^= 0x10;
        const file = join(dir, `flipped-${at}.tar.gz`);
        writeFileSync(file, bad);
        const report = await verifyBundle(file);
        expect(failure(report)).toEqual({ seq: null, kind: 'malformed' });
      }
    });

    it('one byte of a part: the event, checkpoint or view it lands in, else the part digest', async () => {
      const p = await parts(intact);
      const events = p.get('events.jsonl')!.toString('utf8');
      // In event 12's action.
      const at = events.indexOf('"action":"', events.indexOf('{"seq":12,')) + 10;
      const flipped = Buffer.from(events);
      flipped[at] ^= 0x01;
      p.set('events.jsonl', flipped);
      expect(failure(await verifyBundle(await repack(new Map(p), false)))).toEqual({ seq: 12, kind: 'edited' });
      // In a redaction rule, which no signature covers: the manifest digest catches it.
      const rule = Buffer.from(events.replace('retention-90d', 'retention-90e'));
      p.set('events.jsonl', rule);
      const report = await verifyBundle(await repack(new Map(p), false));
      expect(failure(report)).toEqual({ seq: null, kind: 'malformed' });
      expect(!report.ok && report.message).toMatch(/events\.jsonl/);
    });

    it('one byte of a checkpoint note: bad_signature', async () => {
      const p = await parts(intact);
      const text = p.get('checkpoints.jsonl')!.toString('utf8');
      p.set(
        'checkpoints.jsonl',
        Buffer.from(
          text.replace(
            ORIGIN,
            ORIGIN.replace(/.$/, (c) => (c === '0' ? '1' : '0')),
          ),
        ),
      );
      expect(failure(await verifyBundle(await repack(p)))).toEqual({ seq: null, kind: 'bad_signature' });
    });

    it('one byte of a view: bad_view at the seq of its row', async () => {
      for (const format of ['csv', 'ocsf'] as const) {
        const file = await build({ format });
        const p = await parts(file);
        const name = bundlePartNames(format)[5];
        const view = p.get(name)!.toString('utf8');
        const at = view.indexOf(fixtureEvent(ORG, 23).event.id);
        p.set(name, Buffer.from(`${view.slice(0, at)}X${view.slice(at + 1)}`));
        expect(failure(await verifyBundle(await repack(p)))).toEqual({ seq: 23, kind: 'bad_view' });
        p.set(name, Buffer.from(view.slice(0, -3)));
        expect(failure(await verifyBundle(await repack(p)))).toEqual({ seq: SIZE, kind: 'bad_view' });
        p.set(name, Buffer.from(`${view}extra\n`));
        expect(failure(await verifyBundle(await repack(p)))).toEqual({ seq: null, kind: 'bad_view' });
      }
    });
  });

  describe('proofs, checkpoints and keys', () => {
    it('a truncated or padded inclusion proof: bad_proof', async () => {
      const filtered = await build({ filters: { actor: 'a' }, pick: (s) => s % 5 === 2 });
      const p = await parts(filtered);
      const proofs = JSON.parse(p.get('proofs.json')!.toString('utf8'));
      const hashes = proofs.inclusion.hashes as string[];
      expect(hashes.length).toBeGreaterThan(2);
      proofs.inclusion.hashes = hashes.slice(0, -1);
      p.set('proofs.json', Buffer.from(JSON.stringify(proofs)));
      const truncated = await verifyBundle(await repack(p));
      expect(failure(truncated)).toEqual({ seq: null, kind: 'bad_proof' });
      expect(!truncated.ok && truncated.message).toMatch(/truncated/);
      proofs.inclusion.hashes = [...hashes, hashes[0]];
      p.set('proofs.json', Buffer.from(JSON.stringify(proofs)));
      const padded = await verifyBundle(await repack(p));
      expect(!padded.ok && padded.message).toMatch(/excess/);
      proofs.inclusion.hashes = hashes;
      proofs.consistency.hashes = (proofs.consistency.hashes as string[]).slice(1);
      p.set('proofs.json', Buffer.from(JSON.stringify(proofs)));
      expect(failure(await verifyBundle(await repack(p)))).toEqual({ seq: null, kind: 'bad_proof' });
    });

    it('a checkpoint re-signed by a key not in keys.json: unknown_key', async () => {
      const p = await parts(intact);
      const l = lines(p, 'checkpoints.jsonl');
      l[l.length - 1] = JSON.stringify({ note: note(SIZE, KEY_B) });
      setLines(p, l, 'checkpoints.jsonl');
      expect(failure(await verifyBundle(await repack(p)))).toEqual({ seq: null, kind: 'unknown_key' });
    });

    it('a bundle signed by a key the verifier does not trust: unknown_key', async () => {
      const byB = await build({ keys: [keyEntry(KEY_B)], checkpoints: [note(20, KEY_B), note(SIZE, KEY_B)] });
      expect(failure(await verifyBundle(byB))).toBe('ok');
      expect(failure(await verifyBundle(byB, { trustedKeys: [KEY_A.vkey] }))).toEqual({
        seq: null,
        kind: 'unknown_key',
      });
      const report = await verifyBundle(byB, { trustedKeys: [KEY_A.vkey, KEY_B.vkey] });
      expect(report.ok && report.keysTrusted).toBe(true);
    });

    it('verifies across a key rotation', async () => {
      const rotated = await build({
        keys: [keyEntry(KEY_A), keyEntry(KEY_B)],
        checkpoints: [note(10, KEY_A), note(SIZE, KEY_B)],
      });
      const report = await verifyBundle(rotated, { trustedKeys: [KEY_A.vkey, KEY_B.vkey] });
      expect(report.ok && report.keys).toHaveLength(2);
    });

    it('a validly signed checkpoint of another tree (a split view): bad_proof', async () => {
      const forgedRoot = leafHash('another history');
      const inconsistent = await build({ checkpoints: [note(10, KEY_A, forgedRoot), note(SIZE)] }).catch(
        (e: Error) => e,
      );
      // The writer refuses nothing here (the hasher knows only the real tree): the verifier must.
      expect(inconsistent).not.toBeInstanceOf(Error);
      expect(failure(await verifyBundle(inconsistent as string))).toEqual({ seq: null, kind: 'bad_proof' });
      // An intermediate checkpoint that lies: only the whole-log recomputation can see it.
      const middle = await build({ checkpoints: [note(10), note(25, KEY_A, forgedRoot), note(SIZE)] });
      expect(failure(await verifyBundle(middle))).toEqual({ seq: null, kind: 'bad_proof' });
    });

    it('checks the bundle sha256 when given', async () => {
      const sha256 = createHash('sha256').update(readFileSync(intact)).digest('hex');
      expect(failure(await verifyBundle(intact, { sha256 }))).toBe('ok');
      expect(failure(await verifyBundle(intact, { sha256: '0'.repeat(64) }))).toEqual({ seq: null, kind: 'malformed' });
    });

    it('refuses a file that is not a bundle', async () => {
      const file = join(dir, 'not-a-bundle.tar.gz');
      writeFileSync(file, 'hello');
      expect(failure(await verifyBundle(file))).toEqual({ seq: null, kind: 'malformed' });
      expect(failure(await verifyBundle(join(dir, 'absent.tar.gz')))).toEqual({ seq: null, kind: 'malformed' });
    });
  });

  describe('the writer exports what the store holds, and refuses only what would be unreadable', () => {
    const attempt = (o: Partial<Parameters<typeof writeBundle>[1]>, file = join(dir, `refused-${++counter}.tar.gz`)) =>
      writeBundle(file, {
        orgId: ORG,
        origin: ORIGIN,
        format: 'jsonl',
        filters: {},
        keys: [keyEntry(KEY_A)],
        checkpoints: [note(SIZE)],
        events: (async function* () {})(),
        subtreeHash: bundles.log.hasher,
        ...o,
      });
    const from = (seqs: number[], leafOf = (seq: number) => bundles.log.leaf(seq - 1)) =>
      (async function* () {
        for (const seq of seqs) yield { ...fixtureEvent(ORG, seq), leaf: leafOf(seq) };
      })();
    const exported = async (o: Partial<Parameters<typeof writeBundle>[1]>): Promise<VerifyReport> => {
      const file = join(dir, `exported-${++counter}.tar.gz`);
      await attempt(o, file);
      return verifyBundle(file);
    };

    it('a store row that no longer matches its leaf, or gaps in the store, are for the verifier to name', async () => {
      const all = Array.from({ length: SIZE }, (_, i) => i + 1);
      expect(
        failure(
          await exported({ events: from(all, (seq) => (seq === 9 ? leafHash('x') : bundles.log.leaf(seq - 1))) }),
        ),
      ).toEqual({
        seq: 9,
        kind: 'edited',
      });
      expect(failure(await exported({ events: from(all.filter((s) => s !== 2)) }))).toEqual({
        seq: 2,
        kind: 'missing',
      });
      expect(failure(await exported({ events: from([1, 2]) }))).toEqual({ seq: 3, kind: 'missing' });
    });

    it('refuses seqs out of order or past the last checkpoint, and checkpoints of unknown keys', async () => {
      await expect(attempt({ events: from([2, 1]) })).rejects.toThrow(BundleWriteError);
      await expect(attempt({ checkpoints: [note(1)], filters: { actor: 'a' }, events: from([1, 2]) })).rejects.toThrow(
        /past the last checkpoint/,
      );
      await expect(attempt({ keys: [keyEntry(KEY_B)] })).rejects.toThrow(/known key/);
      expect(readdirSync(dir).filter((f) => f.startsWith('refused-') || f.startsWith('.refused-'))).toEqual([]);
    });
  });
});
