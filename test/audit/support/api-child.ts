/**
 * Child process of the audit int-specs (run with `node -r ./test/support/register.js`): the real API, team mode, on
 * the database the test made (YOKE_TEST_DATABASE_URL, already migrated); prints `{"url":…}` once listening and stops
 * when its stdin closes. Nest 12 is ES modules only, which Node loads through require(esm) but Jest's runtime does not.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { randomBytes } from 'node:crypto';
import { AppModule } from '../../../apps/server/src/app.module';
import { setupApp } from '../../../apps/server/src/app.setup';
import { loadConfig } from '../../../apps/server/src/core/config/config';

async function main() {
  const databaseUrl = process.env.YOKE_TEST_DATABASE_URL;
  if (!databaseUrl) throw new Error('YOKE_TEST_DATABASE_URL is not set');
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    YOKE_EMBEDDED: '0',
    YOKE_SECRET_KEY: randomBytes(32).toString('base64url'),
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    PORT: '0',
  });
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, databaseUrl, null), {
    logger: false,
    bodyParser: false,
  });
  setupApp(app, config, null);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
  const stop = async () => {
    await app.close();
    process.exit(0);
  };
  process.stdin.on('end', () => void stop());
  process.stdin.on('close', () => void stop());
  process.stdin.resume();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
