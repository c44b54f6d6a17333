import { AppError, type ErrorCode } from '@yoke/protocol';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { randomUUID } from 'node:crypto';
import type { AppConfig } from '../config/config';
import { localCookieHeader, safeEqual } from './local-credential';
import { checkBrowserOrigin, isLoopbackHost, isSafeMethod } from './browser-origin';

/** RFC 8628 clients post their device and token requests as forms: the only API writes that are not JSON. */
const FORM_ROUTES = new Set(['/api/v1/auth/device/code', '/api/v1/auth/device/token']);
const API = '/api/';
const INVALID_UTF8 = 'encoding.invalid_utf8';

function refuse(res: Response, code: ErrorCode, status: number, message: string): void {
  res.status(status).set('cache-control', 'no-store').json(new AppError(code, message).toBody(randomUUID()));
}

/**
 * The first middleware of every request, before anything is parsed or stored:
 * - security headers on every answer (no framing, no sniffing, no referrer: the local link carries a secret);
 * - embedded mode answers only to loopback Host names (DNS rebinding);
 * - a state-changing request from a browser must come from this server's own origin or an allowed one (403);
 * - API writes are JSON (415), device-flow forms excepted.
 */
export function requestGuards(config: AppConfig): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    res.set({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'content-security-policy': "frame-ancestors 'none'",
    });
    if (config.embedded && !isLoopbackHost(req.headers.host)) {
      return refuse(
        res,
        'request.foreign_origin',
        403,
        'this Yoke serves its local user only at 127.0.0.1 / localhost',
      );
    }
    if (isSafeMethod(req.method)) return next();
    const verdict = checkBrowserOrigin(req.headers, config.allowedOrigins);
    if (!verdict.ok) return refuse(res, 'request.foreign_origin', 403, verdict.reason);
    if (req.path.startsWith(API)) {
      const problem = contentTypeProblem(req);
      if (problem) return refuse(res, 'request.unsupported_media_type', 415, problem);
    }
    next();
  };
}

function contentTypeProblem(req: Request): string | null {
  const raw = req.headers['content-type'];
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (raw === undefined) return hasBody ? 'a request body needs Content-Type: application/json' : null;
  const [type, ...params] = raw.split(';').map((p) => p.trim().toLowerCase());
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8') return `only UTF-8 bodies are accepted (charset=${charset})`;
  if (type === 'application/json') return null;
  if (type === 'application/x-www-form-urlencoded' && FORM_ROUTES.has(req.path)) return null;
  return `API writes take Content-Type: application/json (got ${type || 'none'})`;
}

/** The body parsers' `verify`: a body that is not valid UTF-8 is refused instead of being stored with U+FFFD. */
export function verifyUtf8(_req: unknown, _res: unknown, buf: Buffer): void {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    throw Object.assign(new Error('the request body is not valid UTF-8'), { status: 400, type: INVALID_UTF8 });
  }
}

/** Turns the body parsers' encoding refusal into the typed 400 (other parser errors go on to the exception filter). */
export const bodyEncodingErrors: ErrorRequestHandler = (err: unknown, _req, res, next) => {
  if ((err as { type?: string } | null)?.type === INVALID_UTF8) {
    return refuse(res, 'request.invalid_encoding', 400, 'the request body is not valid UTF-8');
  }
  next(err);
};

/** The web page that opens a share link: its `token` is the link's, not the local credential. */
const JOIN_PAGE = /^\/join(\/|$)/;

/**
 * Embedded mode: the URL `yoke start` prints (`/?token=<local secret>`) sets the local user's cookie once and
 * redirects to the same page without the secret. A wrong secret sets nothing. A share link (`/join/?token=…`) is
 * left to the join page.
 */
export function localLink(config: AppConfig): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const secret = config.localSecret;
    if (
      !secret ||
      !isSafeMethod(req.method) ||
      req.path.startsWith(API) ||
      JOIN_PAGE.test(req.path) ||
      typeof req.query.token !== 'string'
    ) {
      return next();
    }
    const url = new URL(req.originalUrl, 'http://local');
    url.searchParams.delete('token');
    res.set('cache-control', 'no-store');
    if (!safeEqual(req.query.token, secret)) {
      res
        .status(401)
        .type('html')
        .send(
          '<!doctype html><meta charset="utf-8"><title>Yoke</title><p>This link does not hold this Yoke\'s local ' +
            'credential (it may be from an earlier start). Run <code>yoke open</code> to open Yoke again.</p>',
        );
      return;
    }
    res.append('Set-Cookie', localCookieHeader(secret, req.secure));
    res.redirect(303, `${url.pathname}${url.search}`);
  };
}
