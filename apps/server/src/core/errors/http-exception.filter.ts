import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { AppError, type ErrorBody, HTTP_STATUS_BY_CODE } from '@yoke/protocol';
import type { Request, Response } from 'express';
import { OUTAGE_RETRY_AFTER_SECONDS, toOutageError } from './outage';

/** The one mapping from errors to HTTP replies. Unknown errors: 500 with a correlation id, details in the log. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const res = ctx.getResponse<Response>();
    const req = ctx.getRequest<Request & { id?: string }>();
    const correlationId = String(req.id ?? '');
    const { status, body } = toHttpError(exception, correlationId);
    if (body.code === 'service.unavailable') {
      // An outage, not a bug: load balancers, the CLI and the web wait and retry.
      this.logger.warn({ err: exception, correlationId, details: body.details }, 'request failed: dependency down');
      res.setHeader('Retry-After', String(OUTAGE_RETRY_AFTER_SECONDS));
    } else if (status >= 500) {
      this.logger.error({ err: exception, correlationId }, 'request failed');
    }
    res.status(status).json(body);
  }
}

export function toHttpError(exception: unknown, correlationId: string): { status: number; body: ErrorBody } {
  const known = exception instanceof AppError ? exception : toOutageError(exception);
  if (known) return { status: HTTP_STATUS_BY_CODE[known.code], body: known.toBody(correlationId) };
  if (exception instanceof HttpException) {
    // Framework-level errors (404 route, body too large, malformed JSON).
    const status = exception.getStatus();
    const code = status === 404 ? 'request.invalid' : status === 413 ? 'request.too_large' : 'request.invalid';
    if (status < 500) return { status, body: { code, message: exception.message, correlationId } };
  }
  const status = (exception as { status?: number; type?: string })?.status;
  if (status === 413)
    return { status, body: { code: 'request.too_large', message: 'request body too large', correlationId } };
  if (status === 400)
    return { status, body: { code: 'request.invalid', message: 'malformed request body', correlationId } };
  return { status: 500, body: { code: 'internal', message: 'internal error', correlationId } };
}
