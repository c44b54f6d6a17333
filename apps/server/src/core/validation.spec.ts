import { AppError, ApprovalId, ItemsQuery, JoinSession } from '@yoke/protocol';
import { z } from 'zod';
import { depthExceeds, MAX_INPUT_DEPTH, parseOr } from './validation';

// Cases the REST and socket fuzzer (test/security/fuzz.int-spec.ts) found reaching Postgres, which answered 500.
describe('parseOr', () => {
  const Body = z.strictObject({ name: z.string(), tags: z.array(z.string()).optional() });

  function refusal(fn: () => unknown): AppError {
    try {
      fn();
    } catch (err) {
      if (err instanceof AppError) return err;
      throw err;
    }
    throw new Error('not refused');
  }

  it('refuses text holding a NUL (Postgres text and jsonb cannot store it), naming where', () => {
    const err = refusal(() => parseOr(Body, { name: 'a\u0000b', tags: ['ok', '\u0000'] }));
    expect(err.code).toBe('request.invalid');
    expect(err.details).toEqual({
      issues: [
        { path: 'name', message: 'contains a NUL character' },
        { path: 'tags.1', message: 'contains a NUL character' },
      ],
    });
    expect(refusal(() => parseOr(ApprovalId, 'ap\u0000', 'event.invalid')).code).toBe('event.invalid');
    expect(refusal(() => parseOr(z.record(z.string(), z.number()), { 'k\u0000': 1 })).code).toBe('request.invalid');
  });

  it('keeps content with a NUL when asked to, as U+FFFD', () => {
    expect(parseOr(Body, { name: 'a\u0000b' }, 'event.invalid', 'replace')).toEqual({ name: 'a\uFFFDb' });
    expect(parseOr(z.json(), { k: ['\u0000'] }, 'event.invalid', 'replace')).toEqual({ k: ['\uFFFD'] });
  });

  it('refuses input nested past the limit without overflowing the stack (z.json() would)', () => {
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(refusal(() => parseOr(z.json(), deep, 'event.invalid')).code).toBe('event.invalid');
    expect(depthExceeds(deep, MAX_INPUT_DEPTH)).toBe(true);
    let fine: unknown = 'leaf';
    for (let i = 0; i < MAX_INPUT_DEPTH; i++) fine = [fine];
    expect(parseOr(z.json(), fine)).toEqual(fine);
  });

  it('refuses positions past the Postgres integer seqs are stored in', () => {
    const sessionId = '6f1c2b4e-1d2a-4c3b-9e8f-0a1b2c3d4e5f';
    expect(parseOr(ItemsQuery, { afterSeq: '2147483647' }).afterSeq).toBe(2_147_483_647);
    expect(refusal(() => parseOr(ItemsQuery, { afterSeq: '2147483648' })).code).toBe('request.invalid');
    expect(refusal(() => parseOr(JoinSession, { sessionId, afterSeq: Number.MAX_SAFE_INTEGER })).code).toBe(
      'request.invalid',
    );
  });
});
