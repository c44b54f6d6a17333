import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { LOCAL_DATABASE_URL, LOCAL_REDIS_URL } from './services';

/**
 * Real services for tests, each test run on its own db/prefix: DATABASE_URL/REDIS_URL (set by you, or by the int and
 * e2e projects' globalSetup after starting containers where a Docker engine answers), else the local services.
 * The order is decided in ./services.ts.
 */
export const BASE_DATABASE_URL = process.env.DATABASE_URL || LOCAL_DATABASE_URL;
export const REDIS_URL = process.env.REDIS_URL || LOCAL_REDIS_URL;

export type Mode = 'team' | 'embedded';
/** The suites run in both deployment shapes unless YOKE_TEST_MODES narrows them (e.g. "team"). */
export const MODES: Mode[] = (process.env.YOKE_TEST_MODES ?? 'team,embedded').split(',').filter(Boolean) as Mode[];

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

/** A test database is made or dropped in seconds; a stuck statement fails with a message, not a hook timeout. */
const BOUNDED = { connectionTimeoutMillis: 15_000, query_timeout: 60_000 };

export async function createTestDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = uniqueName('yoke_t');
  const admin = new Client({ connectionString: BASE_DATABASE_URL, ...BOUNDED });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(BASE_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new Client({ connectionString: BASE_DATABASE_URL, ...BOUNDED });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Waits for a condition to hold (never a fixed sleep). */
export async function expectEventually<T>(
  probe: () => T | Promise<T>,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== false && v !== undefined && v !== null) return v as NonNullable<T>;
      lastError = new Error(`condition still ${String(v)}`);
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw lastError instanceof Error ? lastError : new Error(String(lastError));
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
