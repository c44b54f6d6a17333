import './v8-flags';
import './core/telemetry/server-tracing';
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Logger } from 'nestjs-pino';
import pino from 'pino';
import type { ServerReadyMessage } from '@yoke/protocol';
import { AppModule } from './app.module';
import { GLOBAL_PREFIX, setupApp, UNPREFIXED } from './app.setup';
import { webExport } from './core/http/web-export';
import { type AppConfig, loadConfig, REDACT_PATHS } from './core/config/config';
import { ensureLocalSecret } from './core/config/local-secret';
import type { EmbeddedPostgres } from './core/database/embedded-postgres';
import { runMigrations } from './core/database/migrate';
import { watchParentPipe } from './core/parent-liveness';
import { JobRegistry } from './core/queue/job-registry';
import { stopTracing } from './core/telemetry/tracing';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

async function main(): Promise<void> {
  const loaded = loadConfig();
  // Embedded mode: the local user is whoever holds the secret in YOKE_HOME (0600), or the cookie set from its URL.
  const config = loaded.embedded ? { ...loaded, localSecret: ensureLocalSecret(loaded.home) } : loaded;
  const log = pino({ level: config.logLevel, redact: REDACT_PATHS });
  if (config.embedded && !LOOPBACK.has(config.host)) {
    throw new Error(`embedded mode serves a single local user and listens on loopback only (HOST=${config.host})`);
  }

  let embedded: EmbeddedPostgres | null = null;
  // `yoke start` ties this process to its own life: when it dies, so does the server, even while still booting.
  let stop = async (): Promise<void> => embedded?.stop();
  if (config.parentPipeFd !== null) watchParentPipe(config.parentPipeFd, () => stop(), { log });
  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    // Loaded only here: team mode never holds PGlite (its WASM module and file-system bundle).
    const { prepareEmbeddedHome, startEmbeddedPostgres } =
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('./core/database/embedded-postgres') as typeof import('./core/database/embedded-postgres');
    if (await prepareEmbeddedHome(config.home)) log.info({ home: config.home }, 'embedded database created');
    embedded = await startEmbeddedPostgres(config.home);
    databaseUrl = embedded.url;
    log.info({ home: config.home }, 'embedded Postgres started');
  }
  const applied = await runMigrations(databaseUrl);
  if (applied.length) log.info({ applied }, 'migrations applied');

  const redis = config.redisUrl ? connectRedis(config) : null;
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.forRoot(config, databaseUrl, redis?.client ?? null),
    {
      bufferLogs: true,
      bodyParser: false,
    },
  );
  app.useLogger(app.get(Logger));
  setupApp(app, config, redis);
  const webDir = config.webDir ?? resolve(__dirname, '../../web/out');
  if (existsSync(webDir)) app.use(webExport(webDir, { apiPrefix: GLOBAL_PREFIX, unprefixed: UNPREFIXED }));
  app.enableShutdownHooks();
  await app.init();
  // Embedded mode runs background jobs in this process: each needs its processor.
  if (!redis) app.get(JobRegistry).assertComplete();

  await app.listen(config.port, config.host);
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${address.port}`;
  log.info({ url, mode: config.embedded ? 'embedded' : 'team', web: existsSync(webDir) }, 'yoke server listening');
  // A parent that spawned this process with an IPC channel (`yoke start`) learns it is ready from this message.
  const ready: ServerReadyMessage = { type: 'ready', url };
  process.send?.(ready);

  let stopping: Promise<void> | null = null;
  stop = () =>
    (stopping ??= (async () => {
      await app.close();
      if (redis) await Promise.all([redis.client.quit(), redis.pub.quit(), redis.sub.quit()]).catch(() => undefined);
      if (embedded) await embedded.stop();
      await stopTracing();
    })());
  const shutdown = () => stop().then(() => process.exit(0));
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
}

function connectRedis(config: AppConfig) {
  const url = config.redisUrl as string;
  // Loaded only in team mode: embedded mode runs its bus and jobs in-process.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Redis } = require('ioredis') as typeof import('ioredis');
  const client = new Redis(url, { maxRetriesPerRequest: null });
  const pub = new Redis(url);
  const sub = pub.duplicate();
  return { client, pub, sub };
}

main().catch((err: unknown) => {
  pino().fatal({ err }, 'yoke server failed to start');
  process.exit(1);
});
