import { z } from 'zod';
import { IsoDate, Uuid } from './common';

/** Org roles, most powerful first. A rule names the least role it admits. */
export const OrgRole = z.enum(['owner', 'admin', 'member', 'auditor']);
export type OrgRole = z.infer<typeof OrgRole>;

/** What an API token may do: `write` acts with the holder's role, `read` never changes anything. */
export const TokenScope = z.enum(['write', 'read']);
export type TokenScope = z.infer<typeof TokenScope>;

/** An org's slug: what sign-in links and the org picker name an org by. */
export const OrgSlug = z
  .string()
  .min(2)
  .max(63)
  .regex(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/, 'lowercase letters, digits and dashes');
const Slug = OrgSlug;
const Email = z.email().max(320);
const Domain = z
  .string()
  .min(1)
  .max(253)
  .regex(/^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}$|^localhost$/, 'a lowercase domain name');

export const OrgView = z.strictObject({ id: Uuid, slug: z.string(), name: z.string(), createdAt: IsoDate });
export type OrgView = z.infer<typeof OrgView>;

export const CreateOrgBody = z.strictObject({ slug: Slug, name: z.string().min(1).max(200) });
export type CreateOrgBody = z.infer<typeof CreateOrgBody>;

export const MemberView = z.strictObject({
  userId: Uuid,
  email: z.string(),
  name: z.string(),
  role: OrgRole,
  createdAt: IsoDate,
});
export type MemberView = z.infer<typeof MemberView>;

export const UpdateMemberBody = z.strictObject({ role: OrgRole });
export type UpdateMemberBody = z.infer<typeof UpdateMemberBody>;

export const CreateInvitationBody = z.strictObject({
  email: Email,
  role: OrgRole.default('member'),
  ttlSeconds: z
    .number()
    .int()
    .min(300)
    .max(30 * 24 * 3600)
    .default(7 * 24 * 3600),
});
export type CreateInvitationBody = z.infer<typeof CreateInvitationBody>;

export const InvitationView = z.strictObject({
  id: Uuid,
  email: z.string(),
  role: OrgRole,
  expiresAt: IsoDate,
  acceptedAt: IsoDate.nullable(),
  createdAt: IsoDate,
  /** Where the invited person signs in; the invitation applies when their verified email matches. */
  loginUrl: z.string(),
});
export type InvitationView = z.infer<typeof InvitationView>;

/** An org's OpenID Connect single sign-on, written by an admin. The secret is write-only. */
export const SsoConfigBody = z.strictObject({
  issuer: z.url().max(2000),
  clientId: z.string().min(1).max(500),
  clientSecret: z.string().min(1).max(2000),
  allowedDomains: z.array(Domain).min(1).max(50),
  defaultRole: z.enum(['member', 'auditor']).default('member'),
});
export type SsoConfigBody = z.infer<typeof SsoConfigBody>;

export const SsoConfigView = z.strictObject({
  issuer: z.string(),
  clientId: z.string(),
  allowedDomains: z.array(z.string()),
  defaultRole: OrgRole,
  loginUrl: z.string(),
  callbackUrl: z.string(),
  updatedAt: IsoDate,
});
export type SsoConfigView = z.infer<typeof SsoConfigView>;

export const CreateTokenBody = z.strictObject({
  name: z.string().min(1).max(100),
  scope: TokenScope.default('write'),
  ttlSeconds: z
    .number()
    .int()
    .min(60)
    .max(365 * 24 * 3600)
    .default(30 * 24 * 3600),
});
export type CreateTokenBody = z.infer<typeof CreateTokenBody>;

export const TokenView = z.strictObject({
  id: Uuid,
  name: z.string(),
  scope: TokenScope,
  kind: z.string(),
  expiresAt: IsoDate.nullable(),
  lastUsedAt: IsoDate.nullable(),
  createdAt: IsoDate,
});
export type TokenView = z.infer<typeof TokenView>;
export const CreatedToken = TokenView.extend({ token: z.string() });
export type CreatedToken = z.infer<typeof CreatedToken>;

/** RFC 8628 device authorization request (form or JSON). */
export const DeviceCodeBody = z.object({
  client_id: z.string().max(100).optional(),
  scope: TokenScope.optional(),
});
export type DeviceCodeBody = z.infer<typeof DeviceCodeBody>;
export const DeviceCodeReply = z.strictObject({
  device_code: z.string(),
  user_code: z.string(),
  verification_uri: z.string(),
  verification_uri_complete: z.string(),
  expires_in: z.number().int(),
  interval: z.number().int(),
});
export type DeviceCodeReply = z.infer<typeof DeviceCodeReply>;

export const DEVICE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code';
export const DeviceTokenBody = z.object({
  grant_type: z.string().max(200),
  device_code: z.string().max(200).optional(),
  client_id: z.string().max(100).optional(),
});
export type DeviceTokenBody = z.infer<typeof DeviceTokenBody>;
export const DeviceTokenReply = z.strictObject({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
  scope: TokenScope,
});
export type DeviceTokenReply = z.infer<typeof DeviceTokenReply>;
/** RFC 8628 §3.5 / RFC 6749 §5.2 error reply of the token endpoint. */
export const DeviceTokenError = z.strictObject({
  error: z.enum([
    'authorization_pending',
    'slow_down',
    'expired_token',
    'access_denied',
    'invalid_grant',
    'unsupported_grant_type',
    'invalid_request',
  ]),
  error_description: z.string().optional(),
});
export type DeviceTokenError = z.infer<typeof DeviceTokenError>;

export const DeviceLookupQuery = z.strictObject({ userCode: z.string().min(1).max(20) });
export const DeviceDecisionBody = z.strictObject({
  userCode: z.string().min(1).max(20),
  approve: z.boolean(),
});
export type DeviceDecisionBody = z.infer<typeof DeviceDecisionBody>;
export const DeviceView = z.strictObject({
  userCode: z.string(),
  clientName: z.string(),
  scope: TokenScope,
  status: z.enum(['pending', 'approved', 'denied', 'issued']),
  expiresAt: IsoDate,
});
export type DeviceView = z.infer<typeof DeviceView>;

export const RotateCredentialReply = z.strictObject({ credential: z.string() });
export type RotateCredentialReply = z.infer<typeof RotateCredentialReply>;

/** Browser sessions carry this CSRF token (readable cookie) back in this header on every write. */
export const CSRF_HEADER = 'x-yoke-csrf';
export const CSRF_COOKIE = 'yoke_csrf';
export const SESSION_COOKIE = 'yoke_session';
