import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar';
import type { AuditExportFormat } from '@yoke/protocol';
import { writeBundle } from '../bundle';
import { type BundleFilters, type BundleKey, type BundleManifest, bundlePartNames } from '../bundle-format';
import { canonicalJson } from '../canonical';
import { auditOrigin, signCheckpoint, type SigningKey, signingKeyFromSeed } from '../note';
import { FlatLog, fixtureEvent, uuidOf } from './fixtures';

/**
 * Bundles of fixture events for tests, and the tools of someone tampering with them: unpack the parts, change
 * lines, pack again (updating the manifest's digests or not).
 */

export const ORG = uuidOf('org');
export const ORIGIN = auditOrigin(ORG);
const seed = (label: string): Buffer => createHash('sha256').update(label).digest();
export const KEY_A = signingKeyFromSeed('yoke-audit-a', seed('key a'));
export const KEY_B = signingKeyFromSeed('yoke-audit-b', seed('key b'));

export const keyEntry = (k: SigningKey): BundleKey => ({
  name: k.name,
  vkey: k.vkey,
  createdAt: '2026-01-01T00:00:00.000Z',
  retiredAt: null,
});

export interface BuildOptions {
  format?: AuditExportFormat;
  filters?: BundleFilters;
  /** Which seqs a filtered export holds. */
  pick?: (seq: number) => boolean;
  /** Default: sizes a quarter, half (twice: a heartbeat) and all of the log. */
  checkpoints?: string[];
  keys?: BundleKey[];
}

/** A line of events.jsonl, parsed. */
export type Line = { seq: number; leaf: string; event: Record<string, unknown>; content: unknown };

/** A line as the writer writes it for this event, recorded leaf and content. */
export const lineOf = (event: Record<string, unknown>, leaf: string, content: unknown = null): string =>
  `{"seq":${event.seq as number},"leaf":"${leaf}","event":${canonicalJson(event)},"content":${JSON.stringify(content)}}`;

export const linesOf = (p: Map<string, Buffer>, name = 'events.jsonl'): string[] =>
  p.get(name)!.toString('utf8').split('\n').slice(0, -1);

export const setLines = (p: Map<string, Buffer>, l: string[], name = 'events.jsonl'): void => {
  p.set(name, Buffer.from(l.map((x) => `${x}\n`).join('')));
};

export class TestBundles {
  readonly log: FlatLog;
  private counter = 0;

  constructor(
    private readonly dir: string,
    readonly size: number,
  ) {
    this.log = FlatLog.of(ORG, size);
  }

  /** A signed checkpoint of the first `size` events (or of another `root`). */
  note(size: number, key = KEY_A, root = this.log.root(size)): string {
    return signCheckpoint({ origin: ORIGIN, size, root, time: new Date(Date.UTC(2026, 0, 2) + size * 1000) }, key);
  }

  async build(o: BuildOptions = {}): Promise<string> {
    const file = join(this.dir, `bundle-${++this.counter}.tar.gz`);
    const { log, size } = this;
    async function* events() {
      for (let seq = 1; seq <= size; seq++) {
        if (o.pick && !o.pick(seq)) continue;
        yield { ...fixtureEvent(ORG, seq), leaf: log.leaf(seq - 1) };
      }
    }
    const quarter = Math.floor(size / 4);
    const half = Math.floor(size / 2);
    await writeBundle(file, {
      orgId: ORG,
      origin: ORIGIN,
      format: o.format ?? 'jsonl',
      filters: o.filters ?? {},
      keys: o.keys ?? [keyEntry(KEY_A)],
      checkpoints: o.checkpoints ?? [this.note(quarter), this.note(half), this.note(half), this.note(size)],
      events: events(),
      subtreeHash: log.hasher,
      createdAt: new Date('2026-02-01T00:00:00.000Z'),
    });
    return file;
  }

  /** The parts of a bundle, in archive order. */
  async parts(file: string): Promise<Map<string, Buffer>> {
    const out = join(this.dir, `unpacked-${++this.counter}`);
    mkdirSync(out);
    await tar.x({ file, cwd: out });
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as BundleManifest;
    const names = bundlePartNames(manifest.format);
    if (readdirSync(out).sort().join() !== [...names].sort().join()) throw new Error(`unexpected parts in ${file}`);
    return new Map(names.map((n) => [n, readFileSync(join(out, n))]));
  }

  /** Writes `p` back as a bundle; `fixDigests` plays an attacker who also updates the manifest. */
  async repack(p: Map<string, Buffer>, fixDigests = true): Promise<string> {
    const out = join(this.dir, `repacked-${++this.counter}`);
    mkdirSync(out);
    if (fixDigests) {
      const manifest = JSON.parse(p.get('manifest.json')!.toString('utf8')) as BundleManifest;
      for (const name of Object.keys(manifest.parts)) {
        const data = p.get(name)!;
        manifest.parts[name] = { sha256: createHash('sha256').update(data).digest('hex'), bytes: data.length };
      }
      p.set('manifest.json', Buffer.from(JSON.stringify(manifest)));
    }
    for (const [name, data] of p) writeFileSync(join(out, name), data);
    const file = `${out}.tar.gz`;
    await tar.c({ gzip: true, file, cwd: out, portable: true }, [...p.keys()]);
    return file;
  }

  /** The bundle with its events passed through `edit`, which gets parsed lines and returns lines. */
  async tamper(file: string, edit: (l: Line[]) => (string | Line)[], fixDigests = true): Promise<string> {
    const p = await this.parts(file);
    const edited = edit(linesOf(p).map((l) => JSON.parse(l) as Line));
    setLines(
      p,
      edited.map((l) => (typeof l === 'string' ? l : lineOf(l.event, l.leaf, l.content))),
    );
    return this.repack(p, fixDigests);
  }
}
