import type { Comment } from '@yoke/protocol';
import { openThreadsByPath, threadsOf, upsert } from '@/lib/comments';

const actor = { id: '00000000-0000-4000-8000-000000000001', name: 'Ann' };
let n = 0;
function comment(over: Partial<Comment>): Comment {
  n++;
  return {
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    sessionId: '00000000-0000-4000-8000-0000000000aa',
    threadId: null,
    anchor: null,
    author: actor,
    body: `c${n}`,
    resolved: false,
    resolvedBy: null,
    resolvedAt: null,
    createdAt: new Date(2026, 0, 1, 0, 0, n).toISOString(),
    ...over,
  };
}

describe('comment threads', () => {
  const a = comment({ anchor: { kind: 'file', path: 'out.txt', lineStart: 1, lineEnd: 1, seq: 3 } });
  const b = comment({ anchor: { kind: 'item', seq: 2 } });
  const a1 = comment({ threadId: a.id });
  const a2 = comment({ threadId: a.id });
  const c = comment({ anchor: { kind: 'file', path: 'out.txt', lineStart: 2, lineEnd: 4, seq: 3 }, resolved: true });

  it('groups replies under their thread, in order, threads in the order given', () => {
    expect(threadsOf([a, b, a1, c, a2])).toEqual([
      { root: a, replies: [a1, a2] },
      { root: b, replies: [] },
      { root: c, replies: [] },
    ]);
  });

  it('counts only open file threads per path', () => {
    expect([...openThreadsByPath(threadsOf([a, b, a1, c]))]).toEqual([['out.txt', 1]]);
  });

  it('upsert replaces a live update in place and appends what is new', () => {
    const resolved = { ...a, resolved: true };
    expect(upsert([a, b], resolved, (x) => x.id === a.id)).toEqual([resolved, b]);
    expect(upsert([a], b, (x) => x.id === b.id)).toEqual([a, b]);
  });
});
