import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

/** Every environment variable the server reads, parsed once at boot. Nothing else reads process.env. */
const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(7420),
  HOST: z.string().default('127.0.0.1'),
  /** Team mode when set; otherwise embedded Postgres (PGlite) under YOKE_HOME. */
  DATABASE_URL: z.string().url().optional(),
  /** socket.io Redis adapter + BullMQ when set; in-process otherwise. */
  REDIS_URL: z.string().url().optional(),
  /** Prefix for every Redis key of this deployment (tests give each run its own). */
  REDIS_PREFIX: z.string().min(1).max(100).default('yoke'),
  YOKE_HOME: z.string().default(join(homedir(), '.yoke')),
  /** Embedded mode: a single local user, loopback only, no login. */
  YOKE_EMBEDDED: z.enum(['0', '1']).optional(),
  /** Team mode bootstrap: when no org exists yet, create one whose admin holds this API token. */
  YOKE_BOOTSTRAP_TOKEN: z.string().min(24).optional(),
  YOKE_BOOTSTRAP_EMAIL: z.string().email().default('admin@localhost'),
  /** Directory of the static web UI export. */
  YOKE_WEB_DIR: z.string().optional(),
  /** Seconds without a heartbeat after which a runner counts as offline. */
  YOKE_RUNNER_STALE_SECONDS: z.coerce.number().int().min(5).default(30),
  /** Seconds a runner may stay disconnected before its running sessions are marked failed. */
  YOKE_RUNNER_OFFLINE_GRACE_SECONDS: z.coerce.number().int().min(1).default(120),
  /**
   * Team mode: the key (at least 32 characters) that signs session cookies and encrypts SSO client secrets at rest.
   * Without it, bearer tokens work but browser sign-in and SSO configuration are refused.
   */
  YOKE_SECRET_KEY: z.string().min(32).optional(),
  /** The URL users reach this deployment at (OIDC callback, device verification page). Default: the request's. */
  YOKE_PUBLIC_URL: z.string().url().optional(),
  /**
   * Other browser origins allowed to send writes and open sockets, comma-separated (`https://a.example,https://b.example`).
   * The server's own origin and YOKE_PUBLIC_URL's are always allowed.
   */
  YOKE_ALLOWED_ORIGINS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const out: string[] = [];
      for (const part of (v ?? '')
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean)) {
        const origin = originOf(part);
        if (!origin) ctx.addIssue({ code: 'custom', message: `not an http(s) origin: ${part}` });
        else out.push(origin);
      }
      return out;
    }),
  /** Sign an audit checkpoint once this many events were appended to an org's log since the last one. */
  YOKE_AUDIT_CHECKPOINT_EVENTS: z.coerce.number().int().min(1).max(1_000_000).default(1000),
  /** …and at least every this many seconds, events or not (a heartbeat proves "nothing happened until then"). */
  YOKE_AUDIT_CHECKPOINT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  /**
   * The checkpoint signing key, as a C2SP signed-note private key (`PRIVATE+KEY+name+hash+base64`). Without it the
   * server generates one at first boot: kept in YOKE_HOME (embedded) or encrypted with YOKE_SECRET_KEY (team).
   */
  YOKE_AUDIT_SIGNING_KEY: z.string().startsWith('PRIVATE+KEY+').optional(),
  /** Where finished audit exports are kept until downloaded (default YOKE_HOME/audit-exports). */
  YOKE_AUDIT_EXPORT_DIR: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Set by `yoke start`: the fd of a pipe from the parent; the server stops when it closes (the parent died). */
  YOKE_PARENT_PIPE: z.coerce.number().int().min(3).max(1023).optional(),
});

export type AppConfig = {
  port: number;
  host: string;
  databaseUrl: string | null;
  redisUrl: string | null;
  redisPrefix: string;
  home: string;
  embedded: boolean;
  bootstrapToken: string | null;
  bootstrapEmail: string;
  webDir: string | null;
  runnerStaleSeconds: number;
  runnerOfflineGraceSeconds: number;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  secretKey: string | null;
  publicUrl: string | null;
  /** Browser origins besides the server's own that may write and open sockets (YOKE_PUBLIC_URL's included). */
  allowedOrigins: string[];
  /** Embedded mode: the local user's secret (from YOKE_HOME/local-token, set at boot); null in team mode. */
  localSecret: string | null;
  /** The fd of `yoke start`'s liveness pipe (YOKE_PARENT_PIPE), or null when no parent watches this server. */
  parentPipeFd: number | null;
  audit: { checkpointEvents: number; checkpointSeconds: number; signingKey: string | null; exportDir: string };
};

/** Secrets: the logger redacts these paths wherever they appear. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'databaseUrl',
  'redisUrl',
  'bootstrapToken',
  'secretKey',
  'localSecret',
  'audit.signingKey',
  'credential',
  'token',
];

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    databaseUrl: e.DATABASE_URL ?? null,
    redisUrl: e.REDIS_URL ?? null,
    redisPrefix: e.REDIS_PREFIX,
    home: e.YOKE_HOME,
    embedded: e.YOKE_EMBEDDED === '1' || (!e.DATABASE_URL && e.YOKE_EMBEDDED !== '0'),
    bootstrapToken: e.YOKE_BOOTSTRAP_TOKEN ?? null,
    bootstrapEmail: e.YOKE_BOOTSTRAP_EMAIL,
    webDir: e.YOKE_WEB_DIR ?? null,
    runnerStaleSeconds: e.YOKE_RUNNER_STALE_SECONDS,
    runnerOfflineGraceSeconds: e.YOKE_RUNNER_OFFLINE_GRACE_SECONDS,
    logLevel: e.LOG_LEVEL,
    secretKey: e.YOKE_SECRET_KEY ?? null,
    publicUrl: e.YOKE_PUBLIC_URL?.replace(/\/+$/, '') ?? null,
    allowedOrigins: [...(e.YOKE_PUBLIC_URL ? [originOf(e.YOKE_PUBLIC_URL) as string] : []), ...e.YOKE_ALLOWED_ORIGINS],
    localSecret: null,
    parentPipeFd: e.YOKE_PARENT_PIPE ?? null,
    audit: {
      checkpointEvents: e.YOKE_AUDIT_CHECKPOINT_EVENTS,
      checkpointSeconds: e.YOKE_AUDIT_CHECKPOINT_SECONDS,
      signingKey: e.YOKE_AUDIT_SIGNING_KEY ?? null,
      exportDir: e.YOKE_AUDIT_EXPORT_DIR ?? join(e.YOKE_HOME, 'audit-exports'),
    },
  };
}

/** The origin (`scheme://host[:port]`, lower case, default port dropped) of an http(s) URL, or null. */
export function originOf(url: string): string | null {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : null;
  } catch {
    return null;
  }
}

export const APP_CONFIG = Symbol('APP_CONFIG');
