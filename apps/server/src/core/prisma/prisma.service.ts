import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../generated/prisma/client';
import { APP_CONFIG, type AppConfig } from '../config/config';
import { DATABASE_URL } from '../database/database-url';

/** The one Prisma client of the process. Only repositories inject it. */
@Injectable()
export class PrismaService extends PrismaClient implements OnModuleDestroy {
  constructor(@Inject(DATABASE_URL) url: string, @Inject(APP_CONFIG) config: AppConfig) {
    // Embedded PGlite serves one connection at a time.
    super({ adapter: new PrismaPg({ connectionString: url, max: config.databaseUrl ? 10 : 1 }) });
  }

  async onModuleDestroy(): Promise<void> {
    await this.$disconnect();
  }
}
