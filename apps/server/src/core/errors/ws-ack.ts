import { Logger } from '@nestjs/common';
import { AppError, type ErrorBody } from '@yoke/protocol';
import { randomUUID } from 'node:crypto';
import { toOutageError } from './outage';

const logger = new Logger('socket');

/** The one mapping from errors to socket acks: `{ ok: false, error }`. */
export function toAckError(err: unknown): { ok: false; error: ErrorBody } {
  if (err instanceof AppError) return { ok: false, error: err.toBody() };
  const outage = toOutageError(err);
  if (outage) {
    logger.warn({ err, details: outage.details }, 'socket handler failed: dependency down');
    return { ok: false, error: outage.toBody() };
  }
  const correlationId = randomUUID();
  logger.error({ err, correlationId }, 'socket handler failed');
  return { ok: false, error: { code: 'internal', message: 'internal error', correlationId } };
}

/** Runs a socket handler and always answers its ack (when the client asked for one). */
export async function answer<T extends object>(
  ack: unknown,
  run: () => Promise<T>,
): Promise<({ ok: true } & T) | { ok: false; error: ErrorBody }> {
  let reply: ({ ok: true } & T) | { ok: false; error: ErrorBody };
  try {
    reply = { ok: true, ...(await run()) };
  } catch (err) {
    reply = toAckError(err);
  }
  if (typeof ack === 'function') (ack as (r: unknown) => void)(reply);
  return reply;
}
