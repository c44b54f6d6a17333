import { useRepository } from '../../../../../test/support/factories';
import { loadConfig } from '../../core/config/config';
import { PrismaService } from '../../core/prisma/prisma.service';
import { HealthRepository } from './health.repository';

describe('HealthRepository (real Postgres)', () => {
  const t = useRepository((db) => new HealthRepository(db.prisma));

  it('answers when the database does', async () => {
    await expect(t.repo.ping()).resolves.toBeUndefined();
  });

  it('fails (instead of answering) when the database is not there', async () => {
    const gone = new URL(t.db.url);
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
