import {
  Approval,
  Comment,
  DryRunReport,
  Enrolment,
  MemberView,
  OrgPolicies,
  PolicyIssue,
  RedeemLinkReply,
  RunnerView,
  Session,
  SessionAccess,
  SessionShares,
  ShareGrant,
  ShareLink,
  WorkspaceFile,
  WorkspaceListing,
  type CommentAnchor,
  type ForkSessionBody,
  type HumanDecision,
  type ShareRole,
} from '@yoke/protocol';
import { request } from '@/lib/api';
import { parseWire, WireError } from '@/lib/wire';

const sid = (id: string) => `/sessions/${encodeURIComponent(id)}`;

export async function getAccess(sessionId: string): Promise<SessionAccess> {
  return parseWire(SessionAccess, 'session access', await request(`${sid(sessionId)}/access`));
}

export async function getSession(sessionId: string): Promise<Session> {
  return parseWire(Session, 'a session', await request(sid(sessionId)));
}

// ---- shares ----

export async function listShares(sessionId: string): Promise<SessionShares> {
  return parseWire(SessionShares, 'shares', await request(`${sid(sessionId)}/shares`));
}

export async function inviteMember(
  sessionId: string,
  userId: string,
  role: ShareRole,
  canApprove = false,
): Promise<ShareGrant> {
  const body = { userId, role, canApprove };
  return parseWire(ShareGrant, 'a share', await request(`${sid(sessionId)}/shares/invites`, { method: 'POST', body }));
}

export async function updateGrant(
  sessionId: string,
  grantId: string,
  body: { role?: ShareRole; canApprove?: boolean },
): Promise<ShareGrant> {
  const path = `${sid(sessionId)}/shares/grants/${encodeURIComponent(grantId)}`;
  return parseWire(ShareGrant, 'a share', await request(path, { method: 'PATCH', body }));
}

export async function createLink(
  sessionId: string,
  body: { role: ShareRole; expiresInSeconds?: number; maxUses?: number },
): Promise<ShareLink> {
  return parseWire(
    ShareLink,
    'a share link',
    await request(`${sid(sessionId)}/shares/links`, { method: 'POST', body }),
  );
}

export async function revokeLink(sessionId: string, linkId: string): Promise<void> {
  await request(`${sid(sessionId)}/shares/links/${encodeURIComponent(linkId)}`, { method: 'DELETE' });
}

export async function revokeGrant(sessionId: string, grantId: string): Promise<void> {
  await request(`${sid(sessionId)}/shares/grants/${encodeURIComponent(grantId)}`, { method: 'DELETE' });
}

export async function redeemLink(token: string): Promise<RedeemLinkReply> {
  return parseWire(
    RedeemLinkReply,
    'a link',
    await request('/share-links/redeem', { method: 'POST', body: { token } }),
  );
}

/** Opens a link without an account: the reply's credential opens that one session while the link lives. */
export async function redeemLinkAsGuest(token: string, guestName: string): Promise<RedeemLinkReply> {
  const body = guestName ? { token, guestName } : { token };
  return parseWire(RedeemLinkReply, 'a link', await request('/share-links/redeem-guest', { method: 'POST', body }));
}

// ---- comments ----

export async function listComments(sessionId: string): Promise<Comment[]> {
  return parseWire(Comment.array(), 'comments', await request(`${sid(sessionId)}/comments`));
}

export async function addComment(
  sessionId: string,
  body: { anchor: CommentAnchor; body: string } | { threadId: string; body: string },
): Promise<Comment> {
  return parseWire(Comment, 'a comment', await request(`${sid(sessionId)}/comments`, { method: 'POST', body }));
}

export async function setResolved(sessionId: string, commentId: string, resolved: boolean): Promise<Comment> {
  const path = `${sid(sessionId)}/comments/${encodeURIComponent(commentId)}`;
  return parseWire(Comment, 'a comment', await request(path, { method: 'PATCH', body: { resolved } }));
}

// ---- files ----

export async function listFiles(sessionId: string, path: string): Promise<WorkspaceListing> {
  const q = new URLSearchParams({ path });
  return parseWire(WorkspaceListing, 'a file listing', await request(`${sid(sessionId)}/files?${q.toString()}`));
}

export async function readFile(sessionId: string, path: string): Promise<WorkspaceFile> {
  const q = new URLSearchParams({ path });
  return parseWire(WorkspaceFile, 'a file', await request(`${sid(sessionId)}/files/content?${q.toString()}`));
}

// ---- fork ----

export async function forkSession(sessionId: string, body: ForkSessionBody): Promise<Session> {
  return parseWire(Session, 'a session', await request(`${sid(sessionId)}/fork`, { method: 'POST', body }));
}

// ---- approvals ----

export async function listSessionApprovals(sessionId: string): Promise<Approval[]> {
  return parseWire(Approval.array(), 'approvals', await request(`${sid(sessionId)}/approvals`));
}

export async function listApprovals(): Promise<Approval[]> {
  return parseWire(Approval.array(), 'approvals', await request('/approvals'));
}

export async function decideApproval(sessionId: string, approvalId: string, decision: HumanDecision): Promise<unknown> {
  const path = `${sid(sessionId)}/approvals/${encodeURIComponent(approvalId)}`;
  return request(path, { method: 'POST', body: { decision } });
}

// ---- admin ----

export async function listMembers(): Promise<MemberView[]> {
  return parseWire(MemberView.array(), 'members', await request('/org/members'));
}

export async function listRunners(): Promise<RunnerView[]> {
  return parseWire(RunnerView.array(), 'runners', await request('/runners'));
}

export async function revokeRunner(id: string): Promise<void> {
  await request(`/runners/${encodeURIComponent(id)}`, { method: 'DELETE' });
}

export async function createEnrolment(name: string): Promise<{ token: string }> {
  const body = await request('/runners/enrolments', { method: 'POST', body: { name } });
  return parseWire(Enrolment, 'an enrolment', body);
}

export async function getPolicies(): Promise<OrgPolicies> {
  return parseWire(OrgPolicies, 'org policies', await request('/policies'));
}

export async function putPolicies(yaml: string, expectedVersion?: number): Promise<OrgPolicies> {
  return parseWire(
    OrgPolicies,
    'org policies',
    await request('/policies', { method: 'PUT', body: { yaml, expectedVersion } }),
  );
}

export async function validatePolicies(yaml: string): Promise<{ ok: boolean; issues: PolicyIssue[] }> {
  const body = await request('/policies/validate', { method: 'POST', body: { yaml } });
  const r = body as { ok?: unknown; issues?: unknown } | null;
  if (typeof r?.ok !== 'boolean' || !Array.isArray(r.issues))
    throw new WireError('a validation', 'expected {ok, issues}');
  return { ok: r.ok, issues: parseWire(PolicyIssue.array(), 'policy issues', r.issues) };
}

export async function dryRunPolicies(yaml: string, sessionIds: string[]): Promise<DryRunReport> {
  const body = await request('/policies/dry-run', { method: 'POST', body: { yaml, sessionIds } });
  return parseWire(DryRunReport, 'a dry run', body);
}
