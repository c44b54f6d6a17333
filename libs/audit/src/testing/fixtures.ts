import { hash } from 'node:crypto';
import { AUDIT_SCHEMA, type AuditEvent } from '@yoke/protocol';
import type { BundleContent } from '../bundle-format';
import { contentHash } from '../canonical';
import { eventLeaf, flatTreeHash, HASH_SIZE, type SubtreeHasher } from '../merkle';

/**
 * Deterministic audit events for tests and benches: event `seq` of an org is always the same, so a tampered copy
 * can be compared with the original and a million of them need no storage.
 */

/** A v4-shaped uuid from a label. */
export function uuidOf(label: string): string {
  const h = hash('sha256', label, 'hex');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const ACTIONS = [
  'session.created',
  'session.prompt',
  'tool.call',
  'policy.decision',
  'auth.sign_in',
  'runner.connected',
];
const KINDS = ['user', 'agent', 'runner', 'token', 'system', 'guest'] as const;

export interface FixtureEvent {
  event: AuditEvent;
  content: BundleContent;
}

/** Event `seq` of org `orgId`; every third one has content, every tenth content is redacted. */
export function fixtureEvent(orgId: string, seq: number): FixtureEvent {
  const kind = KINDS[seq % KINDS.length];
  const hasContent = seq % 3 === 0;
  const hashOfContent = hasContent ? contentHash({ prompt: `prompt number ${seq}`, seq }) : null;
  const event: AuditEvent = {
    schema: AUDIT_SCHEMA,
    id: uuidOf(`${orgId}/${seq}`),
    orgId,
    seq,
    at: new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString(),
    actor: {
      kind,
      id: kind === 'system' ? 'yoke' : uuidOf(`actor ${seq % 17}`),
      ...(kind === 'user' ? { name: `user${seq % 17}@example.com` } : {}),
      ...(kind === 'agent' ? { onBehalfOf: uuidOf(`actor ${seq % 5}`) } : {}),
    },
    action: ACTIONS[seq % ACTIONS.length],
    target: { kind: 'session', id: uuidOf(`session ${seq % 101}`), name: `fix the build, take ${seq % 7}` },
    outcome: seq % 11 === 0 ? 'denied' : 'success',
    requestId: `req-${seq.toString(36)}`,
    ip: `10.0.${seq % 256}.${(seq * 7) % 256}`,
    userAgent: 'yoke-cli/0.1 (linux; node 20)',
    sessionId: uuidOf(`session ${seq % 101}`),
    turnId: seq % 2 === 0 ? `turn-${seq % 13}` : null,
    contentHash: hashOfContent,
    details: { harness: 'claude', tokens: seq % 1000, cached: seq % 2 === 0, note: null },
  };
  const content: BundleContent = hashOfContent
    ? {
        hash: hashOfContent,
        redacted: seq % 10 === 0 ? { rule: 'retention-90d', at: '2026-04-01T00:00:00.000Z' } : null,
      }
    : null;
  return { event, content };
}

/** Leaves of an org's log held flat, as the server's store would give them, with a `SubtreeHasher` over them. */
export class FlatLog {
  private flat: Buffer;
  size = 0;

  constructor(capacity = 1024) {
    this.flat = Buffer.allocUnsafe(capacity * HASH_SIZE);
  }

  static of(orgId: string, size: number): FlatLog {
    const log = new FlatLog(size);
    for (let seq = 1; seq <= size; seq++) log.push(eventLeaf(fixtureEvent(orgId, seq).event));
    return log;
  }

  push(leaf: Buffer): void {
    if ((this.size + 1) * HASH_SIZE > this.flat.length) {
      const grown = Buffer.allocUnsafe(this.flat.length * 2 + HASH_SIZE);
      this.flat.copy(grown);
      this.flat = grown;
    }
    leaf.copy(this.flat, this.size * HASH_SIZE);
    this.size++;
  }

  leaf(index: number): Buffer {
    return Buffer.from(this.flat.subarray(index * HASH_SIZE, (index + 1) * HASH_SIZE));
  }

  root(size = this.size): Buffer {
    return flatTreeHash(this.flat, 0, size);
  }

  readonly hasher: SubtreeHasher = async (lo, hi) => flatTreeHash(this.flat, lo, hi - lo);
}
