import { startTestDatabase, type TestDatabase } from '../../../../../test/support/factories';
import { loadConfig } from '../../core/config/config';
import { PrismaService } from '../../core/prisma/prisma.service';
import { HealthRepository } from './health.repository';

describe('HealthRepository (real Postgres)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await startTestDatabase();
  });
  afterAll(() => db?.close());

  it('answers when the database does', async () => {
    await expect(new HealthRepository(db.prisma).ping()).resolves.toBeUndefined();
  });

  it('fails (instead of answering) when the database is not there', async () => {
    const gone = new URL(db.url);
    gone.pathname = '/yoke_no_such_database';
    const url = gone.toString();
    const prisma = new PrismaService(url, loadConfig({ DATABASE_URL: url, YOKE_EMBEDDED: '0', LOG_LEVEL: 'silent' }));
    try {
      await expect(new HealthRepository(prisma).ping()).rejects.toThrow();
    } finally {
      await prisma.$disconnect();
    }
  });
});
