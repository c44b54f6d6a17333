import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { z } from 'zod';
import { AuditEvent } from '@yoke/protocol';
import { isSurelyAuditEvent } from './event-check';
import { fixtureEvent, uuidOf } from './testing/fixtures';

const ORG = uuidOf('org');

describe('isSurelyAuditEvent', () => {
  it('follows the AuditEvent schema it restates (review event-check.ts whenever this hash changes)', () => {
    const schema = JSON.stringify(z.toJSONSchema(AuditEvent));
    expect(createHash('sha256').update(schema).digest('hex')).toBe(
      '6efecb3f6296cddefa440c87515c4edee2a3829d0291695d14ba49035ca2fd85',
    );
  });

  it('accepts the events the writer writes', () => {
    for (let seq = 1; seq <= 200; seq++) {
      const { event } = fixtureEvent(ORG, seq);
      expect(isSurelyAuditEvent(JSON.parse(JSON.stringify(event)))).toBe(true);
    }
  });

  /** Values that sit on the schema's edges. */
  const edgy = fc.oneof(
    fc.jsonValue(),
    fc.constantFrom(
      '',
      'a',
      'x'.repeat(64),
      'x'.repeat(65),
      'x'.repeat(200),
      'x'.repeat(201),
      'x'.repeat(320),
      'x'.repeat(321),
      'x'.repeat(500),
      'x'.repeat(501),
      'x'.repeat(1000),
      'x'.repeat(1001),
      '00000000-0000-0000-0000-000000000000',
      'ffffffff-ffff-ffff-ffff-ffffffffffff',
      'FFFFFFFF-FFFF-4FFF-BFFF-FFFFFFFFFFFF',
      '0b6f4d2e-3c1a-0e5f-9a8b-7c6d5e4f3a2b',
      '0b6f4d2e-3c1a-4e5f-7a8b-7c6d5e4f3a2b',
      '2026-02-29T00:00:00.000Z',
      '2024-02-29T23:59:59.999Z',
      '2026-13-01T00:00:00.000Z',
      '2026-01-01T24:00:00.000Z',
      '2026-01-01T00:00:60.000Z',
      '2026-01-01T00:00:00Z',
      '2026-01-01T00:00:00.000+00:00',
      'session.created',
      'Session.created',
      'session',
      'a.b',
      'a_.b_',
      'user',
      'nobody',
      'success',
      'failure',
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      'E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855',
      1.5,
      0,
      -1,
      2 ** 53,
      null,
      true,
      {},
      [],
    ),
  );
  const paths = [
    ['schema'],
    ['id'],
    ['orgId'],
    ['seq'],
    ['at'],
    ['actor'],
    ['actor', 'kind'],
    ['actor', 'id'],
    ['actor', 'name'],
    ['actor', 'onBehalfOf'],
    ['actor', 'extra'],
    ['action'],
    ['target'],
    ['target', 'kind'],
    ['target', 'id'],
    ['target', 'name'],
    ['target', 'extra'],
    ['outcome'],
    ['requestId'],
    ['ip'],
    ['userAgent'],
    ['sessionId'],
    ['turnId'],
    ['contentHash'],
    ['details'],
    ['details', 'k'],
    ['details', '__proto__'],
    ['extra'],
  ];
  const mutation = fc.record({
    seq: fc.integer({ min: 1, max: 500 }),
    edits: fc.array(fc.record({ path: fc.constantFrom(...paths), value: edgy, remove: fc.boolean() }), {
      minLength: 1,
      maxLength: 3,
    }),
  });

  it('never accepts what the schema refuses (generated and mutated events)', () => {
    let refused = 0;
    fc.assert(
      fc.property(mutation, ({ seq, edits }) => {
        const e = JSON.parse(JSON.stringify(fixtureEvent(ORG, seq).event)) as Record<string, unknown>;
        for (const { path, value, remove } of edits) {
          let at: Record<string, unknown> = e;
          for (const key of path.slice(0, -1)) {
            if (typeof at[key] !== 'object' || at[key] === null) at[key] = {};
            at = at[key] as Record<string, unknown>;
          }
          const last = path[path.length - 1];
          if (remove) delete at[last];
          else Object.defineProperty(at, last, { value, enumerable: true, writable: true, configurable: true });
        }
        const parsed = JSON.parse(JSON.stringify(e)) as unknown;
        const zodSays = AuditEvent.safeParse(parsed).success;
        if (!zodSays) refused++;
        if (isSurelyAuditEvent(parsed)) expect(zodSays).toBe(true);
      }),
      { numRuns: 5000 },
    );
    expect(refused).toBeGreaterThan(1000);
  });
});
