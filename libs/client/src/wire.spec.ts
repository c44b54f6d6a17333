import { parseItemOrPlaceholder, parseJoinAck } from './wire';
import { makeNotice, makeSession, SESSION_ID } from './testing/fixtures';

describe('parseItemOrPlaceholder', () => {
  it('keeps a valid item of this session and drops other sessions and seq-less input', () => {
    expect(parseItemOrPlaceholder(makeNotice(1), SESSION_ID)).toEqual(makeNotice(1));
    expect(parseItemOrPlaceholder(makeNotice(1, '00000000-0000-4000-8000-0000000000ff'), SESSION_ID)).toBeNull();
    expect(parseItemOrPlaceholder({ type: 'notice' }, SESSION_ID)).toBeNull();
  });

  it('turns a malformed item with a seq into a visible error notice, so the sequence has no gap', () => {
    const bad = { ...makeNotice(7), type: 'teleport' };
    expect(parseItemOrPlaceholder(bad, SESSION_ID)).toMatchObject({ seq: 7, type: 'notice', level: 'error' });
  });
});

describe('turn items', () => {
  it('parses turn_started / turn_completed / turn_failed, whose body carries turnId', () => {
    const at = '2026-01-01T00:00:00.000Z';
    const failed = { seq: 2, sessionId: SESSION_ID, createdAt: at, type: 'turn_failed', turnId: 't1', error: 'boom' };
    expect(parseItemOrPlaceholder(failed, SESSION_ID)).toEqual(failed);
    const started = { ...failed, type: 'turn_started', error: undefined, actor: { id: 'u', name: 'Ada' } };
    delete started.error;
    expect(parseItemOrPlaceholder(started, SESSION_ID)).toEqual(started);
    expect(parseItemOrPlaceholder({ ...failed, extra: 1 }, SESSION_ID)).toMatchObject({
      type: 'notice',
      level: 'error',
    });
  });
});

describe('parseJoinAck', () => {
  it('reads both ack shapes', () => {
    const ok = parseJoinAck(
      { ok: true, session: makeSession(), items: [makeNotice(1)], partials: [], hasMore: false },
      SESSION_ID,
    );
    expect(ok.ok && ok.items.length).toBe(1);
    const refused = parseJoinAck({ ok: false, error: { code: 'auth.forbidden', message: 'no' } }, SESSION_ID);
    expect(refused).toEqual({ ok: false, error: { code: 'auth.forbidden', message: 'no' } });
  });

  it('rejects a session that does not match the protocol', () => {
    expect(() => parseJoinAck({ ok: true, session: { id: 'x' }, items: [] }, SESSION_ID)).toThrow(
      /does not match the protocol/,
    );
  });
});
