/**
 * bench/journeys' corpus for the read journeys: sessions over 2 orgs, each with turns of the item types a runner
 * stores, bulk-inserted in SQL as `SessionsRepository.create` / `appendItems` write them, in a database of its own;
 * and around every session what collaboration leaves (`CollabRepository` writes these rows): a reviewer of the org
 * invited to it, every fourth one shared by a link a guest redeemed, and comment threads (one on an item with a
 * reply, one on a file, resolved in every other session).
 */
import { createHash } from 'node:crypto';
import { Client } from 'pg';
import { AgentSpec } from '@yoke/protocol';
import { BASE_DATABASE_URL } from '../../test/support/env';

/** The first org's owner token (stable, so a reused corpus keeps its org). */
export const TOKEN = 'ykt_bench-journeys-owner-token-000000000000';
/** Session i's id: md5 of its number made a version-4 UUID (the API's id pipe checks the version). */
const SESSION_ID = `overlay(overlay(md5('bench-journeys-session-' || i) placing '4' from 13) placing '8' from 17)::uuid`;

export type Org = { orgId: string; ownerId: string };

export async function ensureDatabase(name: string): Promise<string> {
  const admin = new Client({ connectionString: BASE_DATABASE_URL });
  await admin.connect();
  const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(BASE_DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(name: string): Promise<void> {
  const admin = new Client({ connectionString: BASE_DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}

/** The agent as a session row stores it: the spec after parsing, defaults filled in. */
const AGENT = AgentSpec.parse({
  name: 'reviewer',
  description: 'Reviews pull requests and runs the tests',
  prompt: 'You review changes in this repository. Run the tests before you answer.',
  model: 'claude-sonnet-4-5',
});

/**
 * One turn is 10 items: turn_started, user_message (with its author), tool_call (shell), command, tool_result,
 * tool_call (file_read), tool_result, agent_message, usage, turn_completed. Bodies are what `insertItems` stores:
 * the item without seq, turnId, actor and createdAt.
 */
const ITEM_BODY = `CASE (k - 1) % 10
  WHEN 0 THEN jsonb_build_object('type', 'turn_started')
  WHEN 1 THEN jsonb_build_object('type', 'user_message', 'content', jsonb_build_array(jsonb_build_object('type', 'text',
    'text', 'Turn ' || ((k - 1) / 10 + 1) || ': the export of invoices times out for large customers; find why and fix it.')))
  WHEN 2 THEN jsonb_build_object('type', 'tool_call', 'callId', 'call-' || k, 'tool', 'shell', 'nativeTool', 'Bash',
    'input', jsonb_build_object('command', 'npm test -- --grep "invoice export" --reporter dot'), 'status', 'completed')
  WHEN 3 THEN jsonb_build_object('type', 'command', 'callId', 'call-' || (k - 1),
    'argv', jsonb_build_array('bash', '-lc', 'npm test -- --grep "invoice export" --reporter dot'),
    'cwd', '/workspaces/billing', 'exitCode', (k % 3 = 0)::int,
    'output', repeat('.', 40) || E'\\n' || (12 + k % 30) || ' passing (' || (300 + k % 900) || E'ms)\\n')
  WHEN 4 THEN jsonb_build_object('type', 'tool_result', 'callId', 'call-' || (k - 2),
    'output', (12 + k % 30) || ' passing, ' || (k % 3) || ' failing', 'isError', false)
  WHEN 5 THEN jsonb_build_object('type', 'tool_call', 'callId', 'call-' || k, 'tool', 'file_read', 'nativeTool', 'Read',
    'input', jsonb_build_object('path', 'src/exports/invoices-' || (k % 17) || '.ts'), 'status', 'completed')
  WHEN 6 THEN jsonb_build_object('type', 'tool_result', 'callId', 'call-' || (k - 1),
    'output', repeat('export async function exportInvoices(org: Org, range: Range) { /* ... */ }' || E'\\n', 6),
    'isError', false)
  WHEN 7 THEN jsonb_build_object('type', 'agent_message', 'streamId', 's-' || k,
    'text', 'The export loads every invoice of the range before writing the first row. I changed it to page through '
      || 'them by id, 500 at a time, and stream the CSV as it goes; the test with 50,000 invoices now takes '
      || (2 + k % 5) || ' s instead of timing out.')
  WHEN 8 THEN jsonb_build_object('type', 'usage', 'model', 'claude-sonnet-4-5', 'inputTokens', 2000 + k % 1000,
    'outputTokens', 300 + k % 200, 'cachedTokens', 1500, 'costUsd', round((2000 + k % 1000) * 0.000003
      + (300 + k % 200) * 0.000015, 6))
  ELSE jsonb_build_object('type', 'turn_completed', 'stopReason', 'end_turn')
END`;

/**
 * The corpus' two orgs: the first is the bootstrap token's (team mode), or `local`, the local user's (embedded); the
 * second is made here. Each gets a reviewer and a runner.
 */
export async function orgs(pg: Client, local?: Org): Promise<[Org, Org]> {
  const hash = createHash('sha256').update(TOKEN).digest('hex');
  const [first] = local
    ? [local]
    : (
        await pg.query<Org>(`SELECT org_id AS "orgId", user_id AS "ownerId" FROM api_tokens WHERE token_hash = $1`, [
          hash,
        ])
      ).rows;
  if (!first) throw new Error('the bootstrap token is not in api_tokens');
  const second: Org = {
    orgId: createHash('md5').update('bench-journeys-org-2').digest('hex'),
    ownerId: createHash('md5').update('bench-journeys-owner-2').digest('hex'),
  };
  const uuid = (h: string) => `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  second.orgId = uuid(second.orgId);
  second.ownerId = uuid(second.ownerId);
  await pg.query(
    `INSERT INTO users (id, email, name) VALUES ($1, 'owner2@bench.example', 'Second Owner') ON CONFLICT DO NOTHING`,
    [second.ownerId],
  );
  await pg.query(
    `INSERT INTO orgs (id, slug, name) VALUES ($1, 'bench-journeys-second', 'Second Org') ON CONFLICT DO NOTHING`,
    [second.orgId],
  );
  await pg.query(`INSERT INTO memberships (org_id, user_id, role) VALUES ($1, $2, 'owner') ON CONFLICT DO NOTHING`, [
    second.orgId,
    second.ownerId,
  ]);
  for (const [n, org] of [first, second].entries()) {
    // Each org's reviewer: a member the org's sessions are shared with.
    await pg.query(
      `INSERT INTO users (id, email, name) VALUES (md5('bench-journeys-reviewer-' || $1::int)::uuid,
         'reviewer' || $1::int || '@bench.example', 'Reviewer ' || $1::int) ON CONFLICT DO NOTHING`,
      [n + 1],
    );
    await pg.query(
      `INSERT INTO memberships (org_id, user_id, role) VALUES ($1, md5('bench-journeys-reviewer-' || $2::int)::uuid,
         'member') ON CONFLICT DO NOTHING`,
      [org.orgId, n + 1],
    );
    await pg.query(
      `INSERT INTO runners (id, org_id, name, platform, credential_hash, last_seen_at)
       VALUES (md5('bench-journeys-runner-' || $2::int)::uuid, $1, 'build-box-' || $2::int, 'linux-x64',
               md5('bench-journeys-runner-credential-' || $2::int), timestamptz '2026-11-30 12:00:00+00')
       ON CONFLICT DO NOTHING`,
      [org.orgId, n + 1],
    );
  }
  return [first, second];
}

export async function seed(pg: Client, [a, b]: [Org, Org], sessions: number, items: number): Promise<void> {
  const [count] = (
    await pg.query<{ s: string; i: string; c: string; ours: boolean }>(
      `SELECT (SELECT count(*) FROM sessions) AS s, (SELECT count(*) FROM session_items) AS i,
         (SELECT count(*) FROM comments) AS c,
         EXISTS (SELECT 1 FROM sessions WHERE id = ${SESSION_ID.replace('|| i', '|| 1')}) AS ours`,
    )
  ).rows;
  const comments = COMMENTS_PER_SESSION * sessions;
  if (
    count.ours &&
    Number(count.s) === sessions &&
    Number(count.i) === sessions * items &&
    Number(count.c) === comments
  ) {
    console.log(`corpus: ${sessions.toLocaleString()} sessions × ${items} items already there (reused)`);
    return;
  }
  const started = Date.now();
  await pg.query('TRUNCATE session_items, sessions CASCADE');
  // Sessions alternate between the two orgs; each is idle after its last turn, last_seq = its item count.
  await pg.query(
    `INSERT INTO sessions (id, org_id, owner_id, runner_id, title, agent, harness, model, workspace, policies, status,
       last_seq, created_at, updated_at)
     SELECT ${SESSION_ID},
       CASE WHEN i % 2 = 0 THEN $1::uuid ELSE $3::uuid END,
       CASE WHEN i % 2 = 0 THEN $2::uuid ELSE $4::uuid END,
       md5('bench-journeys-runner-' || (CASE WHEN i % 2 = 0 THEN 1 ELSE 2 END))::uuid,
       'Session ' || i || ': invoice exports time out', $5::jsonb, 'yoke', 'claude-sonnet-4-5', NULL, '[]', 'idle',
       $6::int, timestamptz '2026-06-01 00:00:00+00' + i * interval '10 minutes',
       timestamptz '2026-06-01 00:00:00+00' + i * interval '10 minutes' + $6::int * interval '1 second'
     FROM generate_series(1, $7::int) i`,
    [a.orgId, a.ownerId, b.orgId, b.ownerId, JSON.stringify(AGENT), items, sessions],
  );
  const chunk = Math.max(1, Math.floor(40_000 / items));
  for (let lo = 1; lo <= sessions; lo += chunk) {
    const hi = Math.min(sessions, lo + chunk - 1);
    await pg.query(
      `INSERT INTO session_items (session_id, seq, org_id, type, turn_id, actor, body, created_at)
       SELECT s.id, k, s.org_id, b.body->>'type', 't' || ((k - 1) / 10 + 1),
         CASE WHEN (k - 1) % 10 = 1 THEN jsonb_build_object('id', s.owner_id::text, 'name', 'Owner') END,
         b.body, s.created_at + k * interval '1 second'
       FROM generate_series($1::int, $2::int) i
       JOIN sessions s ON s.id = ${SESSION_ID}
       CROSS JOIN generate_series(1, $3::int) k
       CROSS JOIN LATERAL (SELECT ${ITEM_BODY} AS body) b`,
      [lo, hi, items],
    );
    process.stdout.write(`\rcorpus: ${hi.toLocaleString()} / ${sessions.toLocaleString()} sessions`);
  }
  await seedCollaboration(pg, sessions, Math.min(items, 8));
  // The totals `appendItems` rolls up from the usage items.
  await pg.query(
    `UPDATE sessions s SET cost_usd = u.cost, input_tokens = u.input, output_tokens = u.output
     FROM (SELECT session_id, sum((body->>'costUsd')::numeric) AS cost, sum((body->>'inputTokens')::bigint) AS input,
                  sum((body->>'outputTokens')::bigint) AS output
           FROM session_items WHERE type = 'usage' GROUP BY session_id) u
     WHERE u.session_id = s.id`,
  );
  for (const table of ['sessions', 'session_items', 'session_grants', 'session_links', 'comments']) {
    await pg.query(`ANALYZE ${table}`);
  }
  console.log(` (seeded in ${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

/** Comments per session: a thread on an item with its reply, and a thread on a file. */
const COMMENTS_PER_SESSION = 3;

/**
 * Shares and comments, as `CollabRepository` writes them: the org's reviewer invited to every session (a viewer or a
 * commenter, by the owner), every fourth session shared by a link (commenter role) that a guest redeemed (a grant
 * with its hashed credential, no user), and `COMMENTS_PER_SESSION` comments: the reviewer's thread on item
 * `anchorSeq` answered by the owner, and the owner's thread on lines of a file, resolved by the reviewer in every
 * other session.
 */
async function seedCollaboration(pg: Client, sessions: number, anchorSeq: number): Promise<void> {
  const reviewer = `md5('bench-journeys-reviewer-' || (CASE WHEN i % 2 = 0 THEN 1 ELSE 2 END))::uuid`;
  const actor = (id: string, name: string) => `jsonb_build_object('id', (${id})::text, 'name', ${name})`;
  const from = `FROM generate_series(1, $1::int) i JOIN sessions s ON s.id = ${SESSION_ID}`;
  await pg.query(
    `INSERT INTO session_grants (id, org_id, session_id, user_id, role, can_approve, created_by_id, created_at)
     SELECT md5('bench-journeys-grant-' || i)::uuid, s.org_id, s.id, ${reviewer},
       (CASE WHEN i % 3 = 0 THEN 'commenter' ELSE 'viewer' END)::share_role, false, s.owner_id,
       s.created_at + interval '1 minute'
     ${from}`,
    [sessions],
  );
  await pg.query(
    `INSERT INTO session_links (id, org_id, session_id, role, token_hash, uses, created_by_id, created_at)
     SELECT md5('bench-journeys-link-' || i)::uuid, s.org_id, s.id, 'commenter', md5('bench-journeys-link-token-' || i),
       1, s.owner_id, s.created_at + interval '2 minutes'
     ${from} WHERE i % 4 = 0`,
    [sessions],
  );
  await pg.query(
    `INSERT INTO session_grants (id, org_id, session_id, guest_name, credential_hash, role, link_id, created_at)
     SELECT md5('bench-journeys-guest-' || i)::uuid, s.org_id, s.id, 'Guest ' || i,
       md5('bench-journeys-guest-credential-' || i), 'commenter', md5('bench-journeys-link-' || i)::uuid,
       s.created_at + interval '3 minutes'
     ${from} WHERE i % 4 = 0`,
    [sessions],
  );
  await pg.query(
    `INSERT INTO comments (id, org_id, session_id, thread_id, anchor, path, author, body, resolved_by, resolved_at,
       created_at)
     SELECT md5('bench-journeys-comment-' || i || '-' || c.n)::uuid, s.org_id, s.id,
       CASE WHEN c.n = 2 THEN md5('bench-journeys-comment-' || i || '-1')::uuid END,
       CASE c.n
         WHEN 1 THEN jsonb_build_object('kind', 'item', 'seq', $2::int)
         WHEN 3 THEN jsonb_build_object('kind', 'file', 'path', 'src/exports/invoices-' || (i % 17) || '.ts',
           'lineStart', 12, 'lineEnd', 18, 'seq', s.last_seq)
       END,
       CASE WHEN c.n = 3 THEN 'src/exports/invoices-' || (i % 17) || '.ts' END,
       CASE WHEN c.n = 1 THEN ${actor(reviewer, "'Reviewer'")} ELSE ${actor('s.owner_id', "'Owner'")} END,
       CASE c.n
         WHEN 1 THEN 'Does paging by id keep the CSV in invoice order when ids are not monotonic?'
         WHEN 2 THEN 'Yes: ids come from a sequence, and the page query orders by id.'
         ELSE 'Stream this with a cursor instead of OFFSET; it degrades past page 100.'
       END,
       CASE WHEN c.n = 3 AND i % 2 = 0 THEN ${actor(reviewer, "'Reviewer'")} END,
       CASE WHEN c.n = 3 AND i % 2 = 0 THEN s.updated_at + interval '1 hour' END,
       s.updated_at + c.n * interval '5 minutes'
     ${from} CROSS JOIN generate_series(1, ${COMMENTS_PER_SESSION}) c(n)`,
    [sessions, anchorSeq],
  );
}
