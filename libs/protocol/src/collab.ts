import { z } from 'zod';
import { Actor, IsoDate, Seq, Uuid } from './common';
import { HarnessName } from './agent';

/**
 * Collaboration on a session: roles, shares (invites and links), comments, presence, fork and the files of the
 * session workspace (served by its runner).
 */

/** What someone may do in one session. `owner` is whoever started it; the others come from shares. */
export const SessionRole = z.enum(['owner', 'driver', 'commenter', 'viewer']);
export type SessionRole = z.infer<typeof SessionRole>;
/** Roles a share can hand out (ownership is never shared). */
export const ShareRole = z.enum(['driver', 'commenter', 'viewer']);
export type ShareRole = z.infer<typeof ShareRole>;

const ROLE_RANK: Record<SessionRole, number> = { viewer: 0, commenter: 1, driver: 2, owner: 3 };
/** True when `role` is at least `needed` (owner > driver > commenter > viewer). */
export function hasSessionRole(role: SessionRole, needed: SessionRole): boolean {
  return ROLE_RANK[role] >= ROLE_RANK[needed];
}

/** The caller's standing in one session, with what the UI should enable. */
export const SessionAccess = z.strictObject({
  sessionId: Uuid,
  actor: Actor,
  role: SessionRole,
  /** A link holder without an org account. */
  isGuest: z.boolean(),
  canDrive: z.boolean(),
  canComment: z.boolean(),
  canApprove: z.boolean(),
  canShare: z.boolean(),
});
export type SessionAccess = z.infer<typeof SessionAccess>;

// ---- shares ----

export const CreateInviteBody = z.strictObject({
  userId: Uuid,
  role: ShareRole,
  /** Lets this person answer the session's approvals (owner-only otherwise). */
  canApprove: z.boolean().default(false),
});
export type CreateInviteBody = z.input<typeof CreateInviteBody>;

export const UpdateGrantBody = z.strictObject({ role: ShareRole.optional(), canApprove: z.boolean().optional() });
export type UpdateGrantBody = z.infer<typeof UpdateGrantBody>;

export const CreateLinkBody = z.strictObject({
  role: ShareRole,
  /** Seconds until the link stops working; none: until revoked. */
  expiresInSeconds: z
    .number()
    .int()
    .min(60)
    .max(90 * 24 * 3600)
    .optional(),
  /** How many times it can be opened; none: unlimited. */
  maxUses: z.number().int().min(1).max(10_000).optional(),
});
export type CreateLinkBody = z.input<typeof CreateLinkBody>;

/** Someone the session is shared with: an org member (invited, or who opened a link) or a link guest. */
export const ShareGrant = z.strictObject({
  id: Uuid,
  sessionId: Uuid,
  user: z.strictObject({ id: Uuid, name: z.string(), email: z.string() }).nullable(),
  guestName: z.string().nullable(),
  role: ShareRole,
  canApprove: z.boolean(),
  linkId: Uuid.nullable(),
  createdAt: IsoDate,
});
export type ShareGrant = z.infer<typeof ShareGrant>;

export const ShareLink = z.strictObject({
  id: Uuid,
  sessionId: Uuid,
  role: ShareRole,
  expiresAt: IsoDate.nullable(),
  maxUses: z.number().int().nullable(),
  uses: z.number().int(),
  createdAt: IsoDate,
  /** The secret part of the link; present only in the reply that created it. */
  token: z.string().optional(),
});
export type ShareLink = z.infer<typeof ShareLink>;

export const SessionShares = z.strictObject({ grants: z.array(ShareGrant), links: z.array(ShareLink) });
export type SessionShares = z.infer<typeof SessionShares>;

/** Opens a link: an org user (bearer token) gets a grant; without a token a guest gets a scoped credential. */
export const RedeemLinkBody = z.strictObject({
  token: z.string().min(1).max(200),
  guestName: z.string().trim().min(1).max(100).optional(),
});
export type RedeemLinkBody = z.infer<typeof RedeemLinkBody>;
export const RedeemLinkReply = z.strictObject({
  sessionId: Uuid,
  role: ShareRole,
  /** For guests only: a bearer credential valid for this session alone, until the link is revoked or expires. */
  credential: z.string().nullable(),
});
export type RedeemLinkReply = z.infer<typeof RedeemLinkReply>;

// ---- comments ----

export const CommentAnchor = z.discriminatedUnion('kind', [
  z
    .strictObject({
      kind: z.literal('file'),
      path: z.string().min(1).max(4096),
      lineStart: z.number().int().min(1),
      lineEnd: z.number().int().min(1),
      /** The session's `lastSeq` when the comment was made: the file as it was then. */
      seq: z.number().int().nonnegative(),
    })
    .refine((a) => a.lineEnd >= a.lineStart, { message: 'lineEnd must not be before lineStart' }),
  z.strictObject({ kind: z.literal('item'), seq: Seq }),
]);
export type CommentAnchor = z.infer<typeof CommentAnchor>;

export const Comment = z.strictObject({
  id: Uuid,
  sessionId: Uuid,
  /** The first comment of the thread; null for that first comment itself. */
  threadId: Uuid.nullable(),
  /** Set on the first comment of a thread only. */
  anchor: CommentAnchor.nullable(),
  author: Actor,
  body: z.string(),
  resolved: z.boolean(),
  resolvedBy: Actor.nullable(),
  resolvedAt: IsoDate.nullable(),
  createdAt: IsoDate,
});
export type Comment = z.infer<typeof Comment>;

export const CreateCommentBody = z
  .strictObject({
    anchor: CommentAnchor.optional(),
    threadId: Uuid.optional(),
    body: z.string().trim().min(1).max(20_000),
  })
  .refine((b) => (b.anchor === undefined) !== (b.threadId === undefined), {
    message: 'give either `anchor` (a new thread) or `threadId` (a reply)',
  });
export type CreateCommentBody = z.infer<typeof CreateCommentBody>;

export const ResolveCommentBody = z.strictObject({ resolved: z.boolean() });
export type ResolveCommentBody = z.infer<typeof ResolveCommentBody>;

// ---- fork ----

export const ForkSessionBody = z.strictObject({
  /** Items up to and including this seq are copied into the new session. */
  seq: Seq,
  harness: HarnessName.optional(),
  model: z.string().min(1).max(200).optional(),
  runnerId: Uuid.optional(),
  workspace: z.string().min(1).max(4096).optional(),
  title: z.string().max(200).optional(),
});
export type ForkSessionBody = z.infer<typeof ForkSessionBody>;

// ---- presence ----

export const PresenceViewer = z.strictObject({ actor: Actor, role: SessionRole, isGuest: z.boolean() });
export type PresenceViewer = z.infer<typeof PresenceViewer>;
export const PresenceEvent = z.strictObject({ sessionId: Uuid, viewers: z.array(PresenceViewer) });
export type PresenceEvent = z.infer<typeof PresenceEvent>;
export const TypingBody = z.strictObject({ sessionId: Uuid });
export type TypingBody = z.infer<typeof TypingBody>;
export const TypingEvent = z.strictObject({ sessionId: Uuid, actor: Actor });
export type TypingEvent = z.infer<typeof TypingEvent>;
/** Sent to someone whose access to a session just ended or changed (their live view closes or reloads). */
export const AccessRevokedEvent = z.strictObject({ sessionId: Uuid, message: z.string() });
export type AccessRevokedEvent = z.infer<typeof AccessRevokedEvent>;

// ---- workspace files (served by the runner) ----

/** A workspace-relative path: no absolute paths, no `..` segments, no NUL. */
export const WorkspacePath = z
  .string()
  .max(4096)
  .refine((p) => !p.startsWith('/') && !p.includes('\0') && !p.split(/[\\/]/).includes('..'), {
    message: 'a path relative to the workspace, without ..',
  });

export const WorkspaceListRequest = z.strictObject({ sessionId: Uuid, path: WorkspacePath.default('') });
export type WorkspaceListRequest = z.input<typeof WorkspaceListRequest>;
export const WorkspaceEntry = z.strictObject({
  name: z.string(),
  path: z.string(),
  kind: z.enum(['file', 'dir', 'other']),
  size: z.number().int().nonnegative(),
});
export type WorkspaceEntry = z.infer<typeof WorkspaceEntry>;
export const WorkspaceListing = z.strictObject({
  path: z.string(),
  entries: z.array(WorkspaceEntry),
  truncated: z.boolean(),
  /** The workspace is a git work tree (a fork of it gets its own branch); set on the root listing. */
  isGitRepo: z.boolean().optional(),
});
export type WorkspaceListing = z.infer<typeof WorkspaceListing>;

export const WorkspaceReadRequest = z.strictObject({ sessionId: Uuid, path: WorkspacePath.refine((p) => p !== '') });
export type WorkspaceReadRequest = z.infer<typeof WorkspaceReadRequest>;
/** Largest file content a runner returns; longer files come back truncated. */
export const MAX_WORKSPACE_FILE_BYTES = 512 * 1024;
export const WorkspaceFile = z.strictObject({
  path: z.string(),
  size: z.number().int().nonnegative(),
  /** UTF-8 text; empty for binary files. */
  content: z.string(),
  isBinary: z.boolean(),
  truncated: z.boolean(),
});
export type WorkspaceFile = z.infer<typeof WorkspaceFile>;

export const FilesQuery = z.strictObject({ path: WorkspacePath.default('') });
export type FilesQuery = z.infer<typeof FilesQuery>;
