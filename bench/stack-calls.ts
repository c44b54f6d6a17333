/**
 * Small helpers the benches share for talking to a stack (`test/support/stack.ts`): a bounded wait, a REST answer
 * that must be a success, a socket that must connect.
 */
import type { Socket } from 'socket.io-client';

const TIMEOUT_MS = 60_000;

/** `p`, or an error naming `what` once `ms` passed without an answer. */
export function within<T>(what: string, p: Promise<T>, ms = TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** The body of a REST answer, or an error with its status and body when it is not a success. */
export async function ok<T>(what: string, r: Promise<{ status: number; body: T }>): Promise<T> {
  const res = await r;
  if (res.status >= 300) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Resolves once the socket is connected (at once if it is). */
export function connected(s: Socket): Promise<void> {
  return s.connected ? Promise.resolve() : within('socket connect', new Promise((r) => s.once('connect', () => r())));
}
