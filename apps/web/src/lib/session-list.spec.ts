import type { Session } from '@yoke/protocol';
import { makeSession } from '@/lib/testing/fixtures';
import { DEFAULT_FILTER, filterSessions, mergeSessions } from '@/lib/session-list';

const session = (id: string, updatedAt: string, over: Partial<Session> = {}): Session =>
  makeSession({ id, title: `session ${id}`, updatedAt, ...over });

describe('mergeSessions', () => {
  it('upserts by id, keeps the newer copy, and sorts by last activity', () => {
    const a1 = session('a', '2026-01-01T00:00:01.000Z');
    const b = session('b', '2026-01-01T00:00:02.000Z');
    const a2 = session('a', '2026-01-01T00:00:03.000Z', { status: 'running' });
    expect(mergeSessions([a1, b], [a2]).map((s) => [s.id, s.status])).toEqual([
      ['a', 'running'],
      ['b', 'idle'],
    ]);
    expect(mergeSessions([a2, b], [a1])[0]).toBe(a2);
  });
});

describe('filterSessions', () => {
  const list = [
    session('a', '2026-01-01T00:00:01Z', { status: 'archived' }),
    session('b', '2026-01-01T00:00:02Z', { title: 'Fix login', model: 'gpt-5' }),
    session('c', '2026-01-01T00:00:03Z', { status: 'running' }),
  ];
  it('hides archived by default and filters by status and text', () => {
    expect(filterSessions(list, DEFAULT_FILTER).map((s) => s.id)).toEqual(['b', 'c']);
    expect(filterSessions(list, { ...DEFAULT_FILTER, showArchived: true }).map((s) => s.id)).toEqual(['a', 'b', 'c']);
    expect(filterSessions(list, { ...DEFAULT_FILTER, status: 'archived' }).map((s) => s.id)).toEqual(['a']);
    expect(filterSessions(list, { ...DEFAULT_FILTER, search: 'GPT' }).map((s) => s.id)).toEqual(['b']);
  });
});
