import { AppError } from '@yoke/protocol';

/** A handshake refusal the client can read: `connect_error` with `err.data = { code, message }`. */
export function connectError(err: unknown): Error {
  const e = new Error(err instanceof AppError ? err.message : 'authentication failed');
  (e as Error & { data: unknown }).data =
    err instanceof AppError ? err.toBody() : { code: 'internal', message: e.message };
  return e;
}
