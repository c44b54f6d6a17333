import { API_PREFIX, type ErrorBody } from '@yoke/protocol';
import { parseErrorBody, WireError } from './wire';

/** A refusal from the server (its typed `{code, message}` body when it sent one), or no answer at all (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody | null,
  ) {
    super(body ? `${body.code}: ${body.message}` : status === 0 ? 'the server could not be reached' : `HTTP ${status}`);
    this.name = 'ApiError';
  }

  get code(): string {
    return this.body?.code ?? (this.status === 0 ? 'network' : 'internal');
  }
}

/** A protocol schema, or a parser function, that turns a reply body into a typed value or says why it cannot. */
export type ReplyParser<T> =
  | {
      safeParse(
        input: unknown,
      ): { success: true; data: T } | { success: false; error: { issues: { message: string }[] } };
    }
  | ((input: unknown) => T);

/** A reply the caller does not read (`204`, or an ack body of no interest). */
export const IGNORE_REPLY: ReplyParser<void> = () => undefined;

/**
 * The REST API as a client calls it: JSON in, and every reply parsed with the protocol's schema before the caller
 * sees it (a reply that does not match is a `WireError`, never trusted). The credential, when there is one, travels
 * as a bearer token; a browser sends its cookie instead.
 */
export class HttpClient {
  constructor(
    /** The server's origin (`http://127.0.0.1:7420`), or '' for same-origin calls from a page. */
    readonly server: string,
    private readonly token?: string,
  ) {}

  /** The credential header, for calls made outside `call` (streamed downloads). */
  authHeaders(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  async call<T>(method: string, path: string, parse: ReplyParser<T>, body?: unknown, signal?: AbortSignal): Promise<T> {
    let res: Response;
    try {
      res = await fetch(`${this.server}${API_PREFIX}${path}`, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...this.authHeaders() },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new ApiError(0, null);
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? (JSON.parse(text) as unknown) : null;
    } catch {
      if (res.ok) throw new WireError(`a reply to ${method} ${path}`, 'not JSON');
    }
    if (!res.ok) throw new ApiError(res.status, parseErrorBody(json));
    if (typeof parse === 'function') return parse(json);
    const r = parse.safeParse(json);
    if (!r.success) throw new WireError(`a reply to ${method} ${path}`, r.error.issues[0]?.message ?? 'invalid');
    return r.data;
  }
}
