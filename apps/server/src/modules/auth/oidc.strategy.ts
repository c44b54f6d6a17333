import type { Request } from 'express';
import passport from 'passport';
import type { Configuration } from 'openid-client';
import { Strategy } from 'openid-client/passport';

/** What the login leg keeps for the callback leg: PKCE verifier, nonce and state (sealed in a short-lived cookie). */
export type OidcPending = { code_verifier: string; nonce?: string; state?: string; max_age?: number };

const KEY = 'oidc';

type OidcRequest = Request & { session?: Record<string, unknown>; yokeOidcState?: string };

/**
 * openid-client's passport strategy (authorization code + PKCE) with two additions: a state and a nonce on every
 * request (openid-client sends a state only to providers without PKCE), and no server-side session store: the
 * pending request travels sealed in a cookie and the state is also recorded once in Postgres (so it cannot replay).
 */
class YokeStrategy extends Strategy {
  override authorizationRequestParams(req: Request, options: object): URLSearchParams {
    const params = super.authorizationRequestParams(req, options) as URLSearchParams;
    const state = (req as OidcRequest).yokeOidcState;
    if (state) params.set('state', state);
    return params;
  }
}

export type OidcClaims = Record<string, unknown> & { sub: string; iss: string };

/**
 * Runs one leg of the login through passport. The first leg resolves with the provider URL and the pending request;
 * the callback leg resolves with the verified ID token claims (state, nonce, PKCE, issuer, audience, expiry and
 * signature checked by openid-client), or rejects with why the provider's answer was refused.
 */
export function runOidc(
  config: Configuration,
  opts: { callbackUrl: string; state?: string; pending?: OidcPending },
  req: Request,
): Promise<{ redirect: string; pending: OidcPending } | { claims: OidcClaims }> {
  const r = req as OidcRequest;
  const pending: { value?: OidcPending } = {};
  // The strategy writes its pending request to `req.session[KEY]` on the first leg and reads it on the second.
  r.session = {
    get [KEY](): OidcPending | undefined {
      return opts.pending;
    },
    set [KEY](value: OidcPending | undefined) {
      if (value) pending.value = value;
    },
  };
  r.yokeOidcState = opts.state;
  const strategy = new YokeStrategy(
    { config, callbackURL: opts.callbackUrl, scope: 'openid email profile', sessionKey: KEY },
    (tokens, verified) => {
      const claims = tokens.claims();
      if (!claims) verified(null, false, { message: 'the provider returned no ID token' });
      else verified(null, claims);
    },
  );
  return new Promise((resolve, reject) => {
    // passport answers a redirect by writing to the response; this one only records where to, so the caller sets
    // its cookie before redirecting the browser itself.
    let location = '';
    const capture = {
      statusCode: 200,
      setHeader(name: string, value: string) {
        if (name.toLowerCase() === 'location') location = value;
      },
      end() {
        if (!location || !pending.value) reject(new Error('the sign-in request could not be prepared'));
        else resolve({ redirect: location, pending: pending.value });
      },
    };
    passport.authenticate(strategy, { session: false }, (err: unknown, user: unknown, info: unknown) => {
      if (err) return reject(err instanceof Error ? err : new Error(String(err)));
      if (!user) return reject(new Error(messageOf(info) ?? 'the provider refused the sign-in'));
      resolve({ claims: user as OidcClaims });
    })(req, capture, (err?: unknown) => reject(err instanceof Error ? err : new Error('sign-in failed')));
  });
}

function messageOf(info: unknown): string | undefined {
  if (info && typeof info === 'object' && 'message' in info) return String((info as { message: unknown }).message);
  return undefined;
}
