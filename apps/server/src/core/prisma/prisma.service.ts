import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import { PrismaClient } from '../../generated/prisma/client';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { DATABASE_URL } from '../database/database-url';

/**
 * How long a query waits for a connection (a new one, or a turn at the pool) before it fails as a Postgres outage:
 * a server that accepts TCP but never answers would otherwise hold every request forever.
 */
export const DB_CONNECT_TIMEOUT_MS = 5_000;
/**
 * How long a query already sent waits for Postgres to answer before it fails as an outage. A backstop for a server
 * that stopped answering, not a limit on real work: far above any query here (interactive transactions are already
 * held to Prisma's 5 s). Client-side (pg's `query_timeout`): nothing is sent to the server, so a pooler that refuses
 * unknown startup parameters is not affected, and migrations (their own `pg` client) are not either.
 */
export const DB_QUERY_TIMEOUT_MS = 15_000;

/**
 * The one Prisma client of the process, and the `pg` pool under it. Only repositories inject it; `pool` is for the few
 * hot reads whose rows Prisma's runtime would convert one by one (`Transactions.rows`), on the same connections.
 */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleDestroy {
  readonly pool: Pool;

  constructor(@Inject(DATABASE_URL) url: string, @Inject(APP_CONFIG) config: AppConfig) {
    const pool = new Pool(
      config.databaseUrl
        ? {
            connectionString: url,
            max: 10,
            connectionTimeoutMillis: DB_CONNECT_TIMEOUT_MS,
            query_timeout: DB_QUERY_TIMEOUT_MS,
          }
        : // Embedded PGlite lives in this process and serves one connection at a time: a long wait for it is a
          // queue, not an outage. It is one Postgres session whatever connection reaches it, and it outlives them: a
          // connection the pool opens again (after its idle timeout) would find the statements `Transactions.rows`
          // prepared on the one before, and preparing them again fails ("already exists"). Each new connection
          // starts from none.
          { connectionString: url, max: 1, onConnect: (client) => client.query('DEALLOCATE ALL') },
    );
    super({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
    this.pool = pool;
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
