import type { Session, SessionStatus } from '@yoke/protocol';

export type SessionFilter = { status: SessionStatus | 'all'; search: string; showArchived: boolean };

export const DEFAULT_FILTER: SessionFilter = { status: 'all', search: '', showArchived: false };

const byActivity = (a: Session, b: Session) => Date.parse(b.updatedAt) - Date.parse(a.updatedAt);

/** Merge sessions by id, keeping the most recently updated copy of each; newest activity first. */
export function mergeSessions(list: Session[], incoming: Session[]): Session[] {
  const byId = new Map(list.map((s) => [s.id, s]));
  for (const s of incoming) {
    const known = byId.get(s.id);
    if (!known || Date.parse(s.updatedAt) >= Date.parse(known.updatedAt)) byId.set(s.id, s);
  }
  return [...byId.values()].sort(byActivity);
}

export function filterSessions(list: Session[], f: SessionFilter): Session[] {
  const needle = f.search.trim().toLowerCase();
  return list.filter((s) => {
    if (f.status !== 'all' && s.status !== f.status) return false;
    if (f.status === 'all' && !f.showArchived && s.status === 'archived') return false;
    if (!needle) return true;
    return [s.title, s.harness, s.model ?? '', s.agent.name, s.id].some((v) => v.toLowerCase().includes(needle));
  });
}
