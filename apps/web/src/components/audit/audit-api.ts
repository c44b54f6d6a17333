import {
  API_PREFIX,
  AuditCheckpointView,
  AuditEvent,
  AuditEventsPage,
  AuditExportView,
  AuditKeyView,
  AuditSinkTestResult,
  AuditSinkView,
  CreatedAuditSink,
  MemberView,
  OrgRole,
  SessionPage,
  type CreateAuditExportBody,
  type CreateAuditSinkBody,
  type UpdateAuditSinkBody,
} from '@yoke/protocol';
import { ApiError, request } from '@/lib/api';
import { readToken } from '@/lib/token';
import { parseErrorBody, parseWire, WireError } from '@/lib/wire';
import { eventsQuery, type AuditFilter } from '@/components/audit/audit-log';

/** The audit API (`/api/v1/audit/…`): every reply is parsed with the protocol's schemas before it reaches state. */

export type AuditStatus = { size: number; checkpoint: AuditCheckpointView | null };

export async function fetchAuditStatus(signal?: AbortSignal): Promise<AuditStatus> {
  const body = (await request('/audit/status', { signal })) as { size?: unknown; checkpoint?: unknown } | null;
  if (typeof body?.size !== 'number' || !Number.isInteger(body.size) || body.size < 0) {
    throw new WireError('an audit status', 'expected {size, checkpoint}');
  }
  return { size: body.size, checkpoint: parseWire(AuditCheckpointView.nullable(), 'a checkpoint', body.checkpoint) };
}

export async function fetchAuditEvents(
  filter: AuditFilter,
  after: number,
  limit: number,
  signal?: AbortSignal,
): Promise<AuditEventsPage> {
  return parseWire(
    AuditEventsPage,
    'audit events',
    await request(`/audit/events?${eventsQuery(filter, after, limit)}`, { signal }),
  );
}

export async function fetchCheckpoints(limit: number): Promise<AuditCheckpointView[]> {
  return parseWire(AuditCheckpointView.array(), 'checkpoints', await request(`/audit/checkpoints?limit=${limit}`));
}

export async function fetchAuditKeys(): Promise<AuditKeyView[]> {
  return parseWire(AuditKeyView.array(), 'audit keys', await request('/audit/keys'));
}

export async function createAuditExport(body: CreateAuditExportBody): Promise<AuditExportView> {
  return parseWire(AuditExportView, 'an export', await request('/audit/exports', { method: 'POST', body }));
}

export async function fetchAuditExport(id: string, signal?: AbortSignal): Promise<AuditExportView> {
  return parseWire(AuditExportView, 'an export', await request(`/audit/exports/${encodeURIComponent(id)}`, { signal }));
}

export function exportDownloadPath(id: string): string {
  return `${API_PREFIX}/audit/exports/${encodeURIComponent(id)}/download`;
}

/**
 * The export's bundle as a file, for a caller signed in with an API token (a plain link cannot carry its
 * Authorization header; a browser session's cookie can, and then the page links the file directly).
 */
export async function fetchExportFile(id: string): Promise<{ blob: Blob; name: string }> {
  const headers: Record<string, string> = {};
  const token = readToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let res: Response;
  try {
    res = await fetch(exportDownloadPath(id), { headers, cache: 'no-store' });
  } catch {
    throw new ApiError('network', 'The server could not be reached.', 0);
  }
  if (!res.ok) {
    const error = parseErrorBody(await res.json().catch(() => null));
    throw new ApiError(
      error?.code ?? 'internal',
      error?.message ?? `Download failed (HTTP ${res.status}).`,
      res.status,
    );
  }
  const disposition = res.headers.get('content-disposition') ?? '';
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? `audit-export-${id}.tar.gz`;
  return { blob: await res.blob(), name };
}

export async function fetchAuditSinks(signal?: AbortSignal): Promise<AuditSinkView[]> {
  return parseWire(AuditSinkView.array(), 'audit sinks', await request('/audit/sinks', { signal }));
}

/** A new sink; a webhook's generated secret is in the reply, this once. */
export async function createAuditSink(body: CreateAuditSinkBody): Promise<CreatedAuditSink> {
  return parseWire(CreatedAuditSink, 'a new audit sink', await request('/audit/sinks', { method: 'POST', body }));
}

export async function updateAuditSink(id: string, body: UpdateAuditSinkBody): Promise<AuditSinkView> {
  return parseWire(
    AuditSinkView,
    'an audit sink',
    await request(`/audit/sinks/${encodeURIComponent(id)}`, { method: 'PATCH', body }),
  );
}

/** Sends a test delivery (no events) and says whether the sink acknowledged it. */
export async function testAuditSink(id: string): Promise<AuditSinkTestResult> {
  return parseWire(
    AuditSinkTestResult,
    'a sink test',
    await request(`/audit/sinks/${encodeURIComponent(id)}/test`, { method: 'POST' }),
  );
}

export async function deleteAuditSink(id: string): Promise<void> {
  await request(`/audit/sinks/${encodeURIComponent(id)}`, { method: 'DELETE' });
}

/** Events of a live `audit.appended`: each parsed; one that does not match the protocol is dropped. */
export function parseAppended(input: unknown): AuditEvent[] {
  if (!Array.isArray(input)) return [];
  return input.flatMap((e) => {
    const r = AuditEvent.safeParse(e);
    return r.success ? [r.data] : [];
  });
}

/** The caller's role in the org (`GET /me`); `memberRole` is the role behind a read-only token. */
export async function fetchMyRole(signal?: AbortSignal): Promise<{ role: OrgRole; memberRole: OrgRole | null }> {
  const body = (await request('/me', { signal })) as { role?: unknown; memberRole?: unknown } | null;
  const role = OrgRole.safeParse(body?.role);
  if (!role.success) throw new WireError('the current user', 'expected a role');
  const memberRole = OrgRole.safeParse(body?.memberRole);
  return { role: role.data, memberRole: memberRole.success ? memberRole.data : null };
}

/** Owners, admins and auditors read the audit log; a member never does, not even through a read-only token. */
export function readsAudit(me: { role: OrgRole; memberRole: OrgRole | null }): boolean {
  return me.role !== 'member' && (me.memberRole ?? me.role) !== 'member';
}

export async function fetchMembers(): Promise<MemberView[]> {
  return parseWire(MemberView.array(), 'members', await request('/org/members'));
}

/** A session's delegated children (every page), archived ones included. */
export async function fetchChildSessions(parentId: string, signal?: AbortSignal): Promise<SessionPage['sessions']> {
  const out: SessionPage['sessions'] = [];
  let cursor: string | null = null;
  do {
    const q = new URLSearchParams({ parentId, includeArchived: 'true', limit: '200' });
    if (cursor) q.set('cursor', cursor);
    const page = parseWire(SessionPage, 'a session list', await request(`/sessions?${q.toString()}`, { signal }));
    out.push(...page.sessions);
    cursor = page.nextCursor;
  } while (cursor && out.length < 1000);
  return out;
}
