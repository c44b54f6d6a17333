import type { AuditEvent } from '@yoke/protocol';
import { canonicalJson } from '../canonical';

/**
 * The CSV view of audit events (DESIGN §9, export format `csv`): one RFC 4180 record per event, actor and target
 * flattened into columns, `details` as canonical (RFC 8785) compact JSON in one column. Empty cell for null or absent.
 */
export const CSV_COLUMNS = [
  'seq',
  'at',
  'id',
  'org_id',
  'action',
  'outcome',
  'actor_kind',
  'actor_id',
  'actor_name',
  'actor_on_behalf_of',
  'target_kind',
  'target_id',
  'target_name',
  'session_id',
  'turn_id',
  'request_id',
  'ip',
  'user_agent',
  'content_hash',
  'details',
] as const;

export const CSV_HEADER: string = CSV_COLUMNS.join(',');

/** RFC 4180 separates records with CRLF; `toCsvRow` returns a record without it. */
export const CSV_EOL = '\r\n';

/** One CSV record (no line terminator). Deterministic: the same event gives the same bytes. */
export function toCsvRow(e: AuditEvent): string {
  const cells: string[] = [
    String(e.seq),
    e.at,
    e.id,
    e.orgId,
    e.action,
    e.outcome,
    e.actor.kind,
    e.actor.id,
    e.actor.name ?? '',
    e.actor.onBehalfOf ?? '',
    e.target.kind,
    e.target.id,
    e.target.name ?? '',
    e.sessionId ?? '',
    e.turnId ?? '',
    e.requestId ?? '',
    e.ip ?? '',
    e.userAgent ?? '',
    e.contentHash ?? '',
    canonicalJson(e.details),
  ];
  return cells.map(toCell).join(',');
}

/**
 * A cell that a spreadsheet would read as a formula (starting with = + - @, tab or CR) is prefixed with a single
 * quote, as OWASP recommends against CSV injection. This changes the cell: a reader that wants the original value
 * drops one leading `'` from such cells. Names, ids and user agents come from users, so every cell is checked.
 */
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

function toCell(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
