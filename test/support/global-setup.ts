/**
 * Jest globalSetup of the int and e2e projects: picks Postgres and Redis once per run (test/support/services.ts) and,
 * when it started containers, exports their URLs as DATABASE_URL / REDIS_URL before the workers start, so every
 * worker's env.ts (and every server an e2e suite spawns) uses them. With the variables already set, or with no
 * Docker engine, it changes nothing: the suites use those variables or the local services as before.
 */
import { provideServices, type ProvidedServices } from './services';
import useTestHome from './test-home';

const KEY = Symbol.for('yoke.test.services');
type WithServices = typeof globalThis & { [KEY]?: ProvidedServices };

export default async function globalSetup(): Promise<void> {
  useTestHome();
  const g = globalThis as WithServices;
  if (g[KEY]) return; // the other project's setup already ran in this Jest process
  const services = await provideServices(process.env);
  g[KEY] = services;
  if (services.plan.postgres.source === 'container') process.env.DATABASE_URL = services.databaseUrl;
  if (services.plan.redis.source === 'container') process.env.REDIS_URL = services.redisUrl;
}

/** Jest globalTeardown: stops the containers globalSetup started (testcontainers' reaper removes them otherwise). */
export async function stopServices(): Promise<void> {
  const g = globalThis as WithServices;
  const services = g[KEY];
  delete g[KEY];
  await services?.stop();
}
