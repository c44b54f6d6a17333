import { z } from 'zod';

/** Stable error codes, shared by every transport (HTTP body, socket ack, job outcome, CLI exit message). */
export const ErrorCode = z.enum([
  'request.invalid',
  'request.too_large',
  'request.unsupported_media_type',
  'request.invalid_encoding',
  'request.foreign_origin',
  'auth.unauthenticated',
  'auth.forbidden',
  'auth.invalid_token',
  'runner.not_found',
  'runner.not_connected',
  'runner.enrolment_invalid',
  'runner.no_runner_available',
  'session.not_found',
  'session.not_owned_by_runner',
  'session.archived',
  'session.busy',
  'event.invalid',
  'event.too_large',
  'event.seq_gap',
  'event.session_mismatch',
  'agent.invalid',
  'approval.not_found',
  'approval.already_decided',
  'approval.option_not_offered',
  'harness.unknown',
  'share.not_found',
  'comment.not_found',
  'member.exists',
  'workspace.not_found',
  'workspace.unavailable',
  'workspace.refused',
  'policy.invalid',
  'policy.conflict',
  'org.not_found',
  'org.slug_taken',
  'member.not_found',
  'member.last_owner',
  'invitation.not_found',
  'token.not_found',
  'auth.login_failed',
  'auth.csrf_failed',
  'auth.sso_not_configured',
  'runner.revoked',
  'runner.local_runner',
  'protocol.version_mismatch',
  'service.unavailable',
  'audit.unavailable',
  'audit.export_not_found',
  'audit.export_not_ready',
  'audit.sink_not_found',
  'retention.hold_not_found',
  'budget.not_found',
  'budget.exists',
  'agent.not_found',
  'agent.exists',
  'agent.version_conflict',
  'input.not_found',
  'input.already_delivered',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorBody = z.strictObject({
  code: ErrorCode,
  message: z.string(),
  details: z.unknown().optional(),
  correlationId: z.string().optional(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** HTTP status for each code: one exhaustive table, used by the HTTP exception filter. */
export const HTTP_STATUS_BY_CODE: Record<ErrorCode, number> = {
  'request.invalid': 400,
  'request.too_large': 413,
  'request.unsupported_media_type': 415,
  'request.invalid_encoding': 400,
  'request.foreign_origin': 403,
  'auth.unauthenticated': 401,
  'auth.forbidden': 403,
  'auth.invalid_token': 401,
  'runner.not_found': 404,
  'runner.not_connected': 409,
  'runner.enrolment_invalid': 401,
  'runner.no_runner_available': 409,
  'session.not_found': 404,
  'session.not_owned_by_runner': 403,
  'session.archived': 409,
  'session.busy': 409,
  'event.invalid': 400,
  'event.too_large': 413,
  'event.seq_gap': 409,
  'event.session_mismatch': 403,
  'agent.invalid': 422,
  'approval.not_found': 404,
  'approval.already_decided': 409,
  'approval.option_not_offered': 409,
  'harness.unknown': 422,
  'share.not_found': 404,
  'comment.not_found': 404,
  'member.exists': 409,
  'workspace.not_found': 404,
  'workspace.unavailable': 409,
  'workspace.refused': 422,
  'policy.invalid': 422,
  'policy.conflict': 409,
  'org.not_found': 404,
  'org.slug_taken': 409,
  'member.not_found': 404,
  'member.last_owner': 409,
  'invitation.not_found': 404,
  'token.not_found': 404,
  'auth.login_failed': 401,
  'auth.csrf_failed': 403,
  'auth.sso_not_configured': 409,
  'runner.revoked': 401,
  'runner.local_runner': 409,
  'protocol.version_mismatch': 426,
  'service.unavailable': 503,
  'audit.unavailable': 503,
  'audit.export_not_found': 404,
  'audit.export_not_ready': 409,
  'audit.sink_not_found': 404,
  'retention.hold_not_found': 404,
  'budget.not_found': 404,
  'budget.exists': 409,
  'agent.not_found': 404,
  'agent.exists': 409,
  'agent.version_conflict': 409,
  'input.not_found': 404,
  'input.already_delivered': 409,
  internal: 500,
};

/** Socket acks are always one of these two shapes. */
export type Ack<T> = ({ ok: true } & T) | { ok: false; error: ErrorBody };
export const AckError = z.strictObject({ ok: z.literal(false), error: ErrorBody });
export type AckError = z.infer<typeof AckError>;

/**
 * The schema of a socket ack whose ok reply carries `okBody`'s fields: `{ ok: true, ...okBody }` or
 * `{ ok: false, error }`. `okBody` is strict, so a reply with a field the protocol does not name is refused.
 */
export function ackSchema<Shape extends z.ZodRawShape>(okBody: z.ZodObject<Shape, z.core.$strict>) {
  return z.discriminatedUnion('ok', [okBody.extend({ ok: z.literal(true) }), AckError]);
}

/** A domain error with a stable code; mapped once per transport. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }

  toBody(correlationId?: string): ErrorBody {
    return {
      code: this.code,
      message: this.message,
      ...(this.details === undefined ? {} : { details: this.details }),
      ...(correlationId ? { correlationId } : {}),
    };
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
