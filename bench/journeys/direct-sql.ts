/** The late join's baseline: the same rows read with one hand-written query, from Postgres or from PGlite's files. */
import { join } from 'node:path';
import type { Client } from 'pg';
import { timeRuns } from './report';

const ITEMS_SQL = `SELECT seq, turn_id, actor, body, created_at FROM session_items
  WHERE org_id = $1 AND session_id = $2 ORDER BY seq`;

function check(rows: number, expected: number): void {
  if (rows !== expected) throw new Error(`the direct read got ${rows} of ${expected} items`);
}

export async function directItemsQuery(pg: Client, orgId: string, sessionId: string, expected: number): Promise<void> {
  check((await pg.query(ITEMS_SQL, [orgId, sessionId])).rowCount ?? 0, expected);
}

/**
 * The embedded server's database, opened in this process once the server stopped (PGlite is one process's), and the
 * same query timed `runs` times (after one untimed read). Milliseconds, sorted.
 */
export async function readEmbeddedItems(home: string, sessionId: string, expected: number, runs: number) {
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create(join(home, 'pgdata'));
  try {
    const [{ org_id: orgId }] = (
      await db.query<{ org_id: string }>('SELECT org_id FROM sessions WHERE id = $1', [sessionId])
    ).rows;
    const read = async () => check((await db.query(ITEMS_SQL, [orgId, sessionId])).rows.length, expected);
    return await timeRuns(runs, read, 1);
  } finally {
    await db.close();
  }
}
