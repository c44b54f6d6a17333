import fc from 'fast-check';
import { MAX_SEQ } from './common';
import { AuditStatus, CreateOrgReply, ItemsPage, Liveness, PolicyValidation, Readiness } from './rest';

const SESSION = '11111111-1111-4111-8111-111111111111';
const AT = '2026-01-01T00:00:00.000Z';

describe('REST reply schemas', () => {
  it('a page of items parses each item as a stored item, and bounds lastSeq', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 20 }), { maxLength: 5 }),
        fc.integer({ min: 0, max: MAX_SEQ }),
        fc.boolean(),
        (texts, lastSeq, hasMore) => {
          const items = texts.map((text, i) => ({
            seq: i + 1,
            sessionId: SESSION,
            createdAt: AT,
            type: 'agent_message',
            text,
          }));
          const page = { items, lastSeq, hasMore };
          expect(ItemsPage.parse(page)).toEqual(page);
        },
      ),
    );
    const item = { seq: 1, sessionId: SESSION, createdAt: AT, type: 'notice', level: 'info', text: 'x' };
    expect(ItemsPage.safeParse({ items: [{ ...item, extra: 1 }], lastSeq: 1, hasMore: false }).success).toBe(false);
    expect(ItemsPage.safeParse({ items: [{ ...item, sessionId: 'x' }], lastSeq: 1, hasMore: false }).success).toBe(
      false,
    );
    expect(ItemsPage.safeParse({ items: [item], lastSeq: -1, hasMore: false }).success).toBe(false);
    expect(ItemsPage.safeParse({ items: [item], lastSeq: 1 }).success).toBe(false);
  });

  it('the new org reply carries the org and the token shown once', () => {
    const reply = {
      org: { id: SESSION, slug: 'acme', name: 'Acme', createdAt: AT },
      token: {
        id: SESSION,
        name: 'first',
        scope: 'write',
        kind: 'api',
        expiresAt: null,
        lastUsedAt: null,
        createdAt: AT,
        token: 'yk_secret',
      },
    };
    expect(CreateOrgReply.parse(reply)).toEqual(reply);
    expect(CreateOrgReply.safeParse({ ...reply, token: { ...reply.token, token: undefined } }).success).toBe(false);
  });

  it('the audit status has a size and the latest checkpoint, or none', () => {
    const checkpoint = { size: 3, root: 'abc', at: AT, keyId: 'k1', note: 'n' };
    expect(AuditStatus.parse({ size: 3, checkpoint })).toEqual({ size: 3, checkpoint });
    expect(AuditStatus.parse({ size: 0, checkpoint: null })).toEqual({ size: 0, checkpoint: null });
    expect(AuditStatus.safeParse({ size: 0 }).success).toBe(false);
  });

  it('a policy validation lists positioned issues', () => {
    const issue = { file: 'org.yaml', path: 'rules.0', line: 2, col: 3, message: 'unknown key' };
    expect(PolicyValidation.parse({ ok: false, issues: [issue] }).issues).toEqual([issue]);
    expect(PolicyValidation.safeParse({ ok: true, issues: [{ message: 'x' }] }).success).toBe(false);
  });

  it('the probes answer ok, readiness with each dependency it checked', () => {
    expect(Liveness.parse({ status: 'ok' })).toEqual({ status: 'ok' });
    expect(Readiness.parse({ status: 'ok', checks: { postgres: 'ok' } }).checks).toEqual({ postgres: 'ok' });
    expect(Readiness.safeParse({ status: 'ok', checks: { mysql: 'ok' } }).success).toBe(false);
  });
});
