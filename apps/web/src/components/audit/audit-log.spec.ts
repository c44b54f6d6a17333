import { AUDIT_SCHEMA, type AuditEvent } from '@yoke/protocol';
import {
  actorName,
  EMPTY_FILTER,
  eventsQuery,
  filterSearch,
  formatWait,
  governanceStep,
  isGovernance,
  matchesFilter,
  mergeRows,
  readFilter,
  rowOfLive,
  type AuditRow,
} from '@/components/audit/audit-log';

const ORG = '7f0b1c3e-2d4a-4b5c-8d6e-9f0a1b2c3d4e';
const SESSION = '3c9d2e1f-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
const USER = '11111111-2222-4333-8444-555555555555';

function event(seq: number, over: Partial<AuditEvent> = {}): AuditEvent {
  return {
    schema: AUDIT_SCHEMA,
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    orgId: ORG,
    seq,
    at: `2026-03-01T10:00:${String(seq % 60).padStart(2, '0')}.000Z`,
    actor: { kind: 'user', id: USER, name: 'Ada' },
    action: 'api_token.created',
    target: { kind: 'api_token', id: 'tok-1' },
    outcome: 'success',
    requestId: null,
    ip: null,
    userAgent: null,
    sessionId: null,
    turnId: null,
    contentHash: null,
    details: {},
    ...over,
  };
}

const page = (e: AuditEvent): AuditRow => ({ event: e, leaf: 'a'.repeat(64), content: null });

describe('filters', () => {
  it('reads the address bar, dropping what the server would refuse', () => {
    const q = new URLSearchParams({
      action: 'tool.call',
      actor: USER,
      outcome: 'denied',
      session: SESSION.toUpperCase(),
      from: '2026-03-01T10:00:00Z',
      to: 'yesterday-ish',
    });
    expect(readFilter(q)).toEqual({
      action: 'tool.call',
      actor: USER,
      outcome: 'denied',
      sessionId: SESSION,
      from: '2026-03-01T10:00:00.000Z',
      to: '',
    });
    expect(readFilter(new URLSearchParams('action=DROP TABLE&outcome=maybe&session=42'))).toEqual(EMPTY_FILTER);
  });

  it('writes the same filter back and builds the API query', () => {
    const f = readFilter(new URLSearchParams(`action=tool.call&session=${SESSION}`));
    expect(readFilter(new URLSearchParams(filterSearch(f)))).toEqual(f);
    expect(eventsQuery(f, 0, 100)).toBe(`action=tool.call&sessionId=${SESSION}&limit=100`);
    expect(eventsQuery(EMPTY_FILTER, 250, 50)).toBe('after=250&limit=50');
  });

  it('matches live events by the server rules: exact action, actor id, outcome, session and time range', () => {
    const e = event(5, { sessionId: SESSION, outcome: 'denied', action: 'tool.call' });
    expect(matchesFilter(e, EMPTY_FILTER)).toBe(true);
    expect(matchesFilter(e, { ...EMPTY_FILTER, action: 'tool.call', outcome: 'denied', sessionId: SESSION })).toBe(
      true,
    );
    expect(matchesFilter(e, { ...EMPTY_FILTER, action: 'tool' })).toBe(false);
    expect(matchesFilter(e, { ...EMPTY_FILTER, actor: 'Ada' })).toBe(false);
    expect(matchesFilter(e, { ...EMPTY_FILTER, to: '2026-03-01T09:00:00.000Z' })).toBe(false);
    expect(matchesFilter(e, { ...EMPTY_FILTER, from: '2026-03-01T10:00:05.000Z' })).toBe(true);
  });
});

describe('mergeRows', () => {
  it('keeps each seq once, ascending, and prefers the copy read from the log over the live one', () => {
    const live = [rowOfLive(event(3)), rowOfLive(event(4, { contentHash: 'b'.repeat(64) }))];
    const merged = mergeRows([page(event(1)), page(event(2))], live);
    expect(merged.map((r) => r.event.seq)).toEqual([1, 2, 3, 4]);
    expect(merged[3].content).toEqual({ hash: 'b'.repeat(64), redacted: null });
    const again = mergeRows(merged, [page(event(3)), rowOfLive(event(2)), page(event(5))]);
    expect(again.map((r) => [r.event.seq, r.leaf !== null])).toEqual([
      [1, true],
      [2, true],
      [3, true],
      [4, false],
      [5, true],
    ]);
  });
});

describe('words', () => {
  const names = new Map([[USER, 'Ada Lovelace']]);

  it('names actors from the event, then the members, then a short id', () => {
    expect(actorName({ kind: 'user', id: USER }, names)).toBe('Ada Lovelace');
    expect(actorName({ kind: 'agent', id: SESSION, onBehalfOf: USER }, names)).toBe(
      'session 3c9d2e1f for Ada Lovelace',
    );
    expect(actorName({ kind: 'token', id: 'tok-123456789abc', onBehalfOf: 'someone' }, new Map())).toBe(
      'tok-1234 for someone',
    );
    expect(actorName({ kind: 'system', id: 'yoke' }, names)).toBe('Yoke');
  });

  it('formats waits', () => {
    expect(formatWait(42)).toBe('42 s');
    expect(formatWait(90)).toBe('1 min 30 s');
    expect(formatWait(120)).toBe('2 min');
    expect(formatWait(7500)).toBe('2 h 5 min');
  });

  it('describes governance steps: denials, asks, approvals with who and how long', () => {
    const deny = event(1, {
      action: 'policy.decision',
      outcome: 'denied',
      sessionId: SESSION,
      details: { verdict: 'deny', policies: 'no-push', action: 'tool_call', callId: 'c1' },
    });
    expect(governanceStep(deny, names)).toEqual({
      kind: 'denied',
      label: 'Denied by policy',
      summary: 'on tool call, policy no-push',
    });
    const decided = event(2, {
      action: 'approval.decided',
      sessionId: SESSION,
      actor: { kind: 'user', id: USER },
      details: { approvalId: 'a1', decision: 'approve', waitedSeconds: 95 },
    });
    expect(governanceStep(decided, names)).toEqual({
      kind: 'approval',
      label: 'Approved',
      summary: 'by Ada Lovelace, after waiting 1 min 35 s',
    });
    const ask = event(3, { action: 'approval.requested', sessionId: SESSION, details: { policy: 'ask-shell' } });
    expect(governanceStep(ask, names).kind).toBe('ask');
  });

  it('leaves reads of the audit log and events without a session off the governance timeline', () => {
    expect(isGovernance(event(1, { sessionId: SESSION, action: 'tool.call' }))).toBe(true);
    expect(isGovernance(event(2, { sessionId: SESSION, action: 'audit.read' }))).toBe(false);
    expect(isGovernance(event(3))).toBe(false);
  });
});
