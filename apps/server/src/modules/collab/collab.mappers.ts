import type { Actor, Comment, CommentAnchor, ShareGrant, ShareLink } from '@yoke/protocol';
import type { CommentRow, GrantRow, LinkRow } from './collab.repository';

export function toGrant(row: GrantRow, user: { id: string; name: string; email: string } | null): ShareGrant {
  return {
    id: row.id,
    sessionId: row.sessionId,
    user,
    guestName: row.userId ? null : (row.guestName ?? 'Guest'),
    role: row.role,
    canApprove: row.canApprove,
    linkId: row.linkId,
    createdAt: row.createdAt.toISOString(),
  };
}

export function toLink(row: LinkRow, token?: string): ShareLink {
  return {
    id: row.id,
    sessionId: row.sessionId,
    role: row.role,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    maxUses: row.maxUses,
    uses: row.uses,
    createdAt: row.createdAt.toISOString(),
    ...(token ? { token } : {}),
  };
}

export function toComment(row: CommentRow): Comment {
  return {
    id: row.id,
    sessionId: row.sessionId,
    threadId: row.threadId,
    anchor: (row.anchor as CommentAnchor | null) ?? null,
    author: row.author as Actor,
    body: row.body,
    resolved: row.resolvedAt !== null,
    resolvedBy: (row.resolvedBy as Actor | null) ?? null,
    resolvedAt: row.resolvedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}
