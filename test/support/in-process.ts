import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomBytes } from 'node:crypto';
import { AppModule } from '../../apps/server/src/app.module';
import { setupApp } from '../../apps/server/src/app.setup';
import { loadConfig } from '../../apps/server/src/core/config/config';
import { runMigrations } from '../../apps/server/src/core/database/migrate';
import { PrismaService } from '../../apps/server/src/core/prisma/prisma.service';
import { createTestDatabase } from './env';

export type InProcessApp = {
  app: NestExpressApplication;
  url: string;
  prisma: PrismaService;
  secretKey: string;
  close(): Promise<void>;
};

/** The API in this process (team mode, its own database, in-process bus) on a free loopback port. */
export async function startInProcess(env: NodeJS.ProcessEnv = {}): Promise<InProcessApp> {
  const db = await createTestDatabase();
  await runMigrations(db.url);
  const secretKey = randomBytes(32).toString('base64url');
  const config = loadConfig({
    DATABASE_URL: db.url,
    YOKE_EMBEDDED: '0',
    YOKE_SECRET_KEY: secretKey,
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    PORT: '0',
    ...env,
  });
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, db.url, null), {
    logger: false,
    bodyParser: false,
  });
  setupApp(app, config, null);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    prisma: app.get(PrismaService),
    secretKey,
    async close() {
      await app.close();
      await db.drop();
    },
  };
}
