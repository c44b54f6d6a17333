/**
 * Child process of the authorization matrix test (run with `node -r ./test/support/register.js`): starts the real
 * API in process (team mode, its own database), seeds two orgs with one caller per role, reads the route table from
 * Nest's metadata and prints one JSON line with all of it; stops when its stdin closes.
 * `--unruled` also mounts a controller with a route that declares no @Allow rule and one that declares no audit events
 * (neither @Audited nor @NotAudited), to show that the matrix catches each.
 */
import 'reflect-metadata';
import { Controller, Get, Module, type Type } from '@nestjs/common';
import { MetadataScanner, ModulesContainer, NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { OrgRole } from '@yoke/protocol';
import { randomBytes } from 'node:crypto';
import { AppModule } from '../../apps/server/src/app.module';
import { GLOBAL_PREFIX, setupApp, UNPREFIXED } from '../../apps/server/src/app.setup';
import { loadConfig } from '../../apps/server/src/core/config/config';
import { runMigrations } from '../../apps/server/src/core/database/migrate';
import { PrismaService } from '../../apps/server/src/core/prisma/prisma.service';
import { hashSecret, newSecret } from '../../apps/server/src/core/tokens';
import { AuthService } from '../../apps/server/src/modules/auth/auth.service';
import { routeTable, withoutAuditDeclaration, withoutRule } from '../../apps/server/src/modules/auth/route-table';
import { NotAudited } from '../../apps/server/src/modules/audit/audited';
import { Allow } from '../../apps/server/src/core/auth/access';
import { SecretBox } from '../../apps/server/src/core/auth/secret-box';
import { ZodPipe } from '../../apps/server/src/core/zod-body.pipe';
import { z } from 'zod';
import { createTestDatabase } from './env';

export type MatrixCaller = 'anonymous' | OrgRole | 'other-org' | 'guest';

export type MatrixApp = {
  url: string;
  table: ReturnType<typeof routeTable>;
  /** Handlers without an @Allow rule (route-table's withoutRule). */
  missing: string[];
  /** Handlers that declare neither @Audited nor @NotAudited (route-table's withoutAuditDeclaration). */
  undeclared: string[];
  tokens: Record<Exclude<MatrixCaller, 'anonymous'>, string>;
  ids: Record<'session' | 'runner' | 'approval' | 'member' | 'token' | 'invitation', string>;
  runnerCredential: string;
  /** A second runner of org A, for the socket part (the REST part revokes the first one). */
  socketRunnerCredential: string;
  /** The org A owner's browser session: the signed session cookie value and its CSRF token. */
  ownerCookie: { value: string; csrf: string };
  /** The app's own database (the fuzzer counts rows in it). */
  databaseUrl: string;
  /** What each handler (RouteEntry.handler) validates, for the fuzzer: see handlerInputs. */
  inputs: Record<string, HandlerInputs>;
};

/**
 * A handler's validated inputs: the JSON Schema (input side) of the protocol schema its body and query pipes parse
 * with, and the names of query fields it reads raw.
 */
export type HandlerInputs = { body?: object; query?: object; queryFields: string[] };

@Controller('matrix-unruled')
class UnruledController {
  @NotAudited('a test route')
  @Get()
  open() {
    return { reached: true };
  }

  @Allow('auditor')
  @Get('undeclared')
  undeclared() {
    return { reached: true };
  }
}

async function main() {
  const unruled = process.argv.includes('--unruled');
  const db = await createTestDatabase();
  await runMigrations(db.url);
  const config = loadConfig({
    DATABASE_URL: db.url,
    YOKE_EMBEDDED: '0',
    YOKE_SECRET_KEY: randomBytes(32).toString('base64url'),
    LOG_LEVEL: 'silent',
    HOST: '127.0.0.1',
    PORT: '0',
  });
  @Module({ imports: [AppModule.forRoot(config, db.url, null)], controllers: unruled ? [UnruledController] : [] })
  class MatrixModule {}
  const app = await NestFactory.create<NestExpressApplication>(MatrixModule, { logger: false, bodyParser: false });
  setupApp(app, config, null);
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  const prisma = app.get(PrismaService);

  const member = async (orgId: string, role: OrgRole, email: string) => {
    const user = await prisma.user.create({ data: { email, name: email.split('@')[0] } });
    await prisma.membership.create({ data: { orgId, userId: user.id, role } });
    const token = newSecret('ykt');
    await prisma.apiToken.create({ data: { orgId, userId: user.id, name: 'matrix', tokenHash: hashSecret(token) } });
    return { user, token };
  };
  const a = await prisma.org.create({ data: { slug: 'org-a', name: 'A' } });
  const b = await prisma.org.create({ data: { slug: 'org-b', name: 'B' } });
  const tokens = {} as MatrixApp['tokens'];
  let ownerId = '';
  for (const role of ['auditor', 'member', 'admin', 'owner'] as const) {
    const m = await member(a.id, role, `${role}@a.example`);
    tokens[role] = m.token;
    if (role === 'owner') ownerId = m.user.id;
  }
  tokens['other-org'] = (await member(b.id, 'owner', 'owner@b.example')).token;
  const victim = await member(a.id, 'member', 'victim@a.example');
  const spare = await prisma.apiToken.create({
    data: { orgId: a.id, userId: ownerId, name: 'spare', tokenHash: hashSecret(newSecret('ykt')) },
  });
  const runnerCredential = newSecret('ykr');
  const runner = await prisma.runner.create({
    data: { orgId: a.id, name: 'r', credentialHash: hashSecret(runnerCredential) },
  });
  const webSecret = newSecret('yks');
  const webSession = await prisma.webSession.create({
    data: {
      orgId: a.id,
      userId: ownerId,
      tokenHash: hashSecret(webSecret),
      expiresAt: new Date(Date.now() + 3600_000),
    },
  });
  const ownerCookie = {
    value: app.get(SecretBox).sign(webSecret),
    csrf: app.get(AuthService).csrfToken(webSession.id),
  };
  const socketRunnerCredential = newSecret('ykr');
  await prisma.runner.create({
    data: { orgId: a.id, name: 'r2', credentialHash: hashSecret(socketRunnerCredential) },
  });
  const session = await prisma.session.create({
    data: {
      orgId: a.id,
      ownerId,
      runnerId: runner.id,
      title: 's',
      agent: { name: 'matrix', prompt: 'p' },
      harness: 'yoke',
    },
  });
  // A share-link guest of that session (a viewer): it may only reach the routes marked for guests.
  const link = await prisma.sessionLink.create({
    data: { orgId: a.id, sessionId: session.id, role: 'viewer', tokenHash: hashSecret(newSecret('yks')) },
  });
  tokens.guest = newSecret('ykg');
  await prisma.sessionGrant.create({
    data: {
      orgId: a.id,
      sessionId: session.id,
      guestName: 'Guest',
      credentialHash: hashSecret(tokens.guest),
      role: 'viewer',
      linkId: link.id,
    },
  });
  await prisma.approval.create({
    data: { orgId: a.id, sessionId: session.id, approvalId: 'ap1', policy: 'p', reason: 'r', options: [] },
  });
  const invitation = await prisma.invitation.create({
    data: { orgId: a.id, email: 'new@a.example', role: 'member', expiresAt: new Date(Date.now() + 3600_000) },
  });
  const table = routeTable(app, { prefix: GLOBAL_PREFIX, unprefixed: UNPREFIXED });
  const inputs = handlerInputs(app);
  const out: MatrixApp = {
    url: `http://127.0.0.1:${port}`,
    table,
    missing: withoutRule(table),
    undeclared: withoutAuditDeclaration(table),
    tokens,
    ids: {
      session: session.id,
      runner: runner.id,
      approval: 'ap1',
      member: victim.user.id,
      token: spare.id,
      invitation: invitation.id,
    },
    runnerCredential,
    socketRunnerCredential,
    ownerCookie,
    databaseUrl: db.url,
    inputs,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
  const stop = async () => {
    await app.close();
    await db.drop();
    process.exit(0);
  };
  process.stdin.on('end', () => void stop());
  process.stdin.on('close', () => void stop());
  process.stdin.resume();
}

// Nest's own metadata key and parameter kinds (@nestjs/common ROUTE_ARGS_METADATA, RouteParamtypes).
const ROUTE_ARGS = '__routeArguments__';
const BODY = 3;
const QUERY = 4;

/** Reads every controller method's @Body/@Query parameters from Nest's metadata (keyed like RouteEntry.handler). */
function handlerInputs(app: NestExpressApplication): Record<string, HandlerInputs> {
  const scanner = new MetadataScanner();
  const out: Record<string, HandlerInputs> = {};
  const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  for (const mod of app.get(ModulesContainer).values()) {
    for (const wrapper of mod.controllers.values()) {
      const type = wrapper.metatype as Type | null;
      if (!type) continue;
      for (const name of scanner.getAllMethodNames(type.prototype as object)) {
        const args = (Reflect.getMetadata(ROUTE_ARGS, type, name) ?? {}) as Record<
          string,
          { data?: unknown; pipes?: unknown[] }
        >;
        const entry: HandlerInputs = { queryFields: [] };
        for (const [key, arg] of Object.entries(args)) {
          const kind = Number(key.split(':')[0]);
          if (kind !== BODY && kind !== QUERY) continue;
          const pipe = arg.pipes?.find((p): p is ZodPipe<z.ZodType> => p instanceof ZodPipe);
          const schema = pipe && (pipe as unknown as { schema: z.ZodType }).schema;
          if (kind === BODY && schema) entry.body = jsonSchema(schema);
          if (kind === QUERY && schema) entry.query = jsonSchema(schema);
          if (kind === QUERY && !schema && typeof arg.data === 'string') entry.queryFields.push(arg.data);
        }
        out[`${type.name}.${name}`] = entry;
      }
    }
  }
  return out;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
