import type { WorkspaceEntry } from '@yoke/protocol';

/**
 * Open comment threads shown beside a listing entry: a file's own, a folder's the sum of every file below it (at any
 * depth), so a folder says there is something to read inside before it is opened.
 */
export function openThreadsFor(entry: Pick<WorkspaceEntry, 'path' | 'kind'>, byPath: Map<string, number>): number {
  if (entry.kind !== 'dir') return byPath.get(entry.path) ?? 0;
  const prefix = `${entry.path}/`;
  let n = 0;
  for (const [path, count] of byPath) if (path.startsWith(prefix)) n += count;
  return n;
}
