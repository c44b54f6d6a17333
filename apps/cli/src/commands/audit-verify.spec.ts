import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import {
  AUDIT_SCHEMA,
  auditOrigin,
  bundlePartNames,
  eventLeaf,
  Frontier,
  signCheckpoint,
  type SigningKey,
  signingKeyFromSeed,
  writeBundle,
} from '@yoke/audit';
import type { AuditEvent } from '@yoke/protocol';
import { auditVerifyCommand, type Output } from './audit-verify';

const ORG = '0b6f4d2e-3c1a-4e5f-9a8b-7c6d5e4f3a2b';
const seed = (label: string): Buffer => createHash('sha256').update(label).digest();
const KEY_A = signingKeyFromSeed('yoke-audit-a', seed('a'));
const KEY_B = signingKeyFromSeed('yoke-audit-b', seed('b'));

const event = (seq: number): AuditEvent => ({
  schema: AUDIT_SCHEMA,
  id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
  orgId: ORG,
  seq,
  at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
  actor: { kind: 'user', id: 'u1', name: 'ada@example.com' },
  action: 'session.created',
  target: { kind: 'session', id: `s${seq}` },
  outcome: 'success',
  requestId: null,
  ip: '127.0.0.1',
  userAgent: null,
  sessionId: null,
  turnId: null,
  contentHash: null,
  details: {},
});

const EVENTS = Array.from({ length: 12 }, (_, i) => event(i + 1));
const LEAVES = EVENTS.map(eventLeaf);
const rootOf = (lo: number, hi: number): Buffer => {
  const f = Frontier.empty();
  for (const leaf of LEAVES.slice(lo, hi)) f.push(leaf);
  return f.root();
};

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'yoke-cli-audit-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function bundle(name: string, key: SigningKey): Promise<string> {
  const file = join(dir, name);
  const note = (size: number): string =>
    signCheckpoint(
      { origin: auditOrigin(ORG), size, root: rootOf(0, size), time: new Date(Date.UTC(2026, 0, 2, size)) },
      key,
    );
  await writeBundle(file, {
    orgId: ORG,
    origin: auditOrigin(ORG),
    format: 'jsonl',
    filters: {},
    keys: [{ name: key.name, vkey: key.vkey, createdAt: '2026-01-01T00:00:00.000Z', retiredAt: null }],
    checkpoints: [note(5), note(12)],
    events: (async function* () {
      for (const [i, e] of EVENTS.entries()) yield { event: e, leaf: LEAVES[i], content: null };
    })(),
    subtreeHash: async (lo, hi) => rootOf(lo, hi),
  });
  return file;
}

function capture(): Output & { text: () => string; errors: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    progress: false,
    text: () => out,
    errors: () => err,
  };
}

describe('yoke audit verify', () => {
  let intact: string;
  beforeAll(async () => {
    intact = await bundle('intact.tar.gz', KEY_A);
  });

  it('exits 0 on an intact bundle with a one-screen summary', async () => {
    const io = capture();
    expect(await auditVerifyCommand(intact, {}, io)).toBe(0);
    const text = io.text();
    expect(text).toMatch(/^intact: /);
    expect(text).toContain('12 (seq 1 to 12)');
    expect(text).toContain('unfiltered: the whole log');
    expect(text).toContain(`size 12, root ${rootOf(0, 12).toString('base64')}`);
    expect(text).toContain(`2, signed by yoke-audit-a+${KEY_A.keyHash.toString('hex')}`);
    expect(text).toContain("the bundle's own");
    expect(text).toContain('redacted     none');
    expect(text.split('\n').length).toBeLessThan(15);
  });

  it('pins the keys with --key and prints JSON with --json', async () => {
    const io = capture();
    expect(await auditVerifyCommand(intact, { key: [KEY_A.vkey], json: true }, io)).toBe(0);
    expect(JSON.parse(io.text())).toMatchObject({ ok: true, events: 12, treeSize: 12, keysTrusted: true });
    const other = capture();
    expect(await auditVerifyCommand(intact, { key: [KEY_B.vkey] }, other)).toBe(1);
    expect(other.text()).toMatch(/^bundle: unknown_key: /);
  });

  it('exits 1 naming the seq of an edited event', async () => {
    const unpacked = join(dir, 'unpacked');
    mkdirSync(unpacked);
    await tar.x({ file: intact, cwd: unpacked });
    const path = join(unpacked, 'events.jsonl');
    writeFileSync(path, readFileSync(path, 'utf8').replace('"target":{"id":"s4"', '"target":{"id":"s44"'));
    const edited = join(dir, 'edited.tar.gz');
    await tar.c({ gzip: true, file: edited, cwd: unpacked }, bundlePartNames('jsonl'));
    const io = capture();
    expect(await auditVerifyCommand(edited, {}, io)).toBe(1);
    expect(io.text()).toMatch(/^seq 4: edited: /);
  });

  it('exits 2 on bad arguments', async () => {
    const io = capture();
    expect(await auditVerifyCommand(intact, { key: ['not-a-key'] }, io)).toBe(2);
    expect(await auditVerifyCommand(join(dir, 'absent.tar.gz'), {}, io)).toBe(2);
    expect(await auditVerifyCommand(intact, { sha256: 'abc' }, io)).toBe(2);
    expect(io.errors()).toContain('--key not-a-key');
  });
});
