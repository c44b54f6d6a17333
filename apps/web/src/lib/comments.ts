import type { Comment } from '@yoke/protocol';

export type Thread = { root: Comment; replies: Comment[] };

/** Threads (first comments) with their replies, in the order given (the server sends oldest first). */
export function threadsOf(comments: Comment[]): Thread[] {
  const replies = new Map<string, Comment[]>();
  for (const c of comments) if (c.threadId) replies.set(c.threadId, [...(replies.get(c.threadId) ?? []), c]);
  return comments.filter((c) => !c.threadId).map((root) => ({ root, replies: replies.get(root.id) ?? [] }));
}

/** Open (unresolved) file threads per path: the counts shown next to files. */
export function openThreadsByPath(threads: Thread[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of threads) {
    if (t.root.anchor?.kind === 'file' && !t.root.resolved)
      m.set(t.root.anchor.path, (m.get(t.root.anchor.path) ?? 0) + 1);
  }
  return m;
}

/** Replaces the entry `same` finds (a live update of something already shown), or appends it. */
export function upsert<T>(list: T[], next: T, same: (a: T) => boolean): T[] {
  const i = list.findIndex(same);
  if (i < 0) return [...list, next];
  const copy = list.slice();
  copy[i] = next;
  return copy;
}
