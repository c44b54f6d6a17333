/**
 * The read journeys' baselines: the direct SQL (the same rows as the API's read, each with one hand-written query) and
 * the floor for an HTTP journey, a minimal `node:http` handler that checks the bearer token with one indexed lookup,
 * runs that query and answers the same JSON as the API.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Pool } from 'pg';

/** Sessions on a page of the list (the API's default). */
export const LIST_LIMIT = 50;

// The same rows, each in one hand-written query.
const SESSION_COLUMNS = `s.id, s.org_id, s.owner_id, s.title, s.agent, s.harness, s.model, s.runner_id,
  s.status::text AS status, s.status_reason, s.parent_id, s.forked_from_id, s.forked_from_seq, s.last_seq, s.cost_usd,
  s.input_tokens, s.output_tokens, s.created_at, s.updated_at, r.online AS runner_online, r.name AS runner_name,
  r.revoked_at AS runner_revoked_at`;
export const LIST_SQL = `SELECT ${SESSION_COLUMNS} FROM sessions s LEFT JOIN runners r ON r.id = s.runner_id
  WHERE s.org_id = $1 AND s.status <> 'archived' ORDER BY s.updated_at DESC, s.id DESC LIMIT $2`;
/** The list searched: the API's match (title, agent name, harness, model or id containing the text). */
export const SEARCH_SQL = `SELECT ${SESSION_COLUMNS} FROM sessions s LEFT JOIN runners r ON r.id = s.runner_id
  WHERE s.org_id = $1 AND s.status <> 'archived'
    AND (s.title ILIKE $3 OR s.agent->>'name' ILIKE $3 OR s.harness ILIKE $3 OR s.model ILIKE $3 OR s.id::text ILIKE $3)
  ORDER BY s.updated_at DESC, s.id DESC LIMIT $2`;
/** `SEARCH_SQL`'s pattern for a search text (`%` and `_` match themselves, as in the API). */
export const searchPattern = (q: string) => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
export const GET_SQL = `SELECT ${SESSION_COLUMNS} FROM sessions s LEFT JOIN runners r ON r.id = s.runner_id
  WHERE s.org_id = $1 AND s.id = $2`;
export const ITEMS_SQL = `SELECT i.seq, i.turn_id, i.actor, i.body, i.created_at,
    (SELECT last_seq FROM sessions WHERE org_id = $1 AND id = $2) AS last_seq
  FROM session_items i WHERE i.org_id = $1 AND i.session_id = $2 AND i.seq > $3 ORDER BY i.seq LIMIT $4`;

type SessionSqlRow = {
  id: string;
  org_id: string;
  owner_id: string;
  title: string;
  agent: unknown;
  harness: string;
  model: string | null;
  runner_id: string | null;
  status: string;
  status_reason: string | null;
  parent_id: string | null;
  forked_from_id: string | null;
  forked_from_seq: number | null;
  last_seq: number;
  cost_usd: string;
  input_tokens: string;
  output_tokens: string;
  created_at: Date;
  updated_at: Date;
  runner_online: boolean | null;
  runner_name: string | null;
  runner_revoked_at: Date | null;
};
type ItemSqlRow = {
  seq: number;
  turn_id: string | null;
  actor: unknown;
  body: Record<string, unknown>;
  created_at: Date;
  last_seq: number;
};

function sessionJson(r: SessionSqlRow) {
  return {
    id: r.id,
    orgId: r.org_id,
    ownerId: r.owner_id,
    title: r.title,
    agent: r.agent,
    harness: r.harness,
    model: r.model,
    runnerId: r.runner_id,
    runnerOnline: r.runner_online ?? false,
    runnerName: r.runner_name,
    runnerRevoked: !!r.runner_revoked_at,
    status: r.status,
    statusReason: r.status_reason,
    parentId: r.parent_id,
    forkedFrom: r.forked_from_id ? { sessionId: r.forked_from_id, seq: r.forked_from_seq ?? 0 } : null,
    lastSeq: r.last_seq,
    costUsd: Number(r.cost_usd),
    inputTokens: Number(r.input_tokens),
    outputTokens: Number(r.output_tokens),
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

function itemJson(sessionId: string, r: ItemSqlRow) {
  return {
    ...r.body,
    seq: r.seq,
    sessionId,
    ...(r.turn_id ? { turnId: r.turn_id } : {}),
    ...(r.actor ? { actor: r.actor } : {}),
    createdAt: r.created_at.toISOString(),
  };
}

/**
 * One of the minimal handler's queries: unprepared (the issue's floor: "runs that query"), or, with
 * `floorPrepared`, prepared per connection under a name as the server prepares its hot reads.
 */
function floorQuery(prepared: boolean, name: string, text: string, values: unknown[]) {
  return prepared ? { name: `floor_${name}`, text, values } : { text, values };
}

/** The floor for an HTTP journey: the bearer token checked (`orgOf`: one indexed lookup), the one query, the JSON. */
export function minimalHandler(
  pool: Pool,
  orgOf: (bearer: string) => Promise<string | undefined>,
  prepared: boolean,
): Server {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const orgId = bearer ? await orgOf(bearer) : undefined;
    if (!orgId) return send(res, 401, { error: 'unauthorized' });
    const url = new URL(req.url ?? '/', 'http://localhost');
    const [, , , , id, sub] = url.pathname.split('/'); // /api/v1/sessions/:id/items
    if (!id) {
      const q = url.searchParams.get('q');
      const query = q
        ? floorQuery(prepared, 'search', SEARCH_SQL, [orgId, LIST_LIMIT + 1, searchPattern(q)])
        : floorQuery(prepared, 'list', LIST_SQL, [orgId, LIST_LIMIT + 1]);
      const rows = (await pool.query<SessionSqlRow>(query)).rows;
      const page = rows.slice(0, LIST_LIMIT);
      return send(res, 200, { sessions: page.map(sessionJson), nextCursor: rows.length > LIST_LIMIT ? 'next' : null });
    }
    if (!sub) {
      const [row] = (await pool.query<SessionSqlRow>(floorQuery(prepared, 'get', GET_SQL, [orgId, id]))).rows;
      return row ? send(res, 200, sessionJson(row)) : send(res, 404, { error: 'not found' });
    }
    const afterSeq = Number(url.searchParams.get('afterSeq') ?? 0);
    const limit = Number(url.searchParams.get('limit') ?? 500);
    const rows = (
      await pool.query<ItemSqlRow>(floorQuery(prepared, 'items', ITEMS_SQL, [orgId, id, afterSeq, limit + 1]))
    ).rows;
    if (rows.length === 0) return send(res, 404, { error: 'not found' });
    return send(res, 200, {
      items: rows.slice(0, limit).map((r) => itemJson(id, r)),
      lastSeq: rows[0].last_seq,
      hasMore: rows.length > limit,
    });
  };
  return createServer((req, res) => {
    handle(req, res).catch((err: unknown) => send(res, 500, { error: String(err) }));
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
