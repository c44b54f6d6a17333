import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { runMigrations } from '../apps/server/src/core/database/migrate';
import { createTestDatabase } from './support/env';

/**
 * The SQL migrations are what runs; schema.prisma is what the client is typed from. This fails when they
 * disagree: a table, column, type, nullability, enum value, primary key, unique constraint or index on one
 * side only.
 */
const SCALARS: Record<string, string> = {
  String: 'text',
  Int: 'integer',
  BigInt: 'bigint',
  Boolean: 'boolean',
  DateTime: 'timestamp with time zone',
  Json: 'jsonb',
  Decimal: 'numeric',
  Bytes: 'bytea',
  Float: 'double precision',
};

type Column = { table: string; column: string; type: string; nullable: boolean };

function parseSchema(text: string) {
  const enums = new Map<string, { db: string; values: string[] }>();
  for (const m of text.matchAll(/enum (\w+) \{([^}]*)\}/g)) {
    const body = m[2];
    const values = body
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('@@') && !l.startsWith('//'));
    enums.set(m[1], { db: body.match(/@@map\("(\w+)"\)/)?.[1] ?? m[1], values });
  }
  const columns: Column[] = [];
  const keys: { table: string; kind: 'pk' | 'unique' | 'index'; columns: string[] }[] = [];
  for (const m of text.matchAll(/model (\w+) \{([^}]*)\}/g)) {
    const body = m[2];
    const table = body.match(/@@map\("(\w+)"\)/)?.[1] ?? m[1];
    const colName = new Map<string, string>();
    for (const line of body.split('\n').map((l) => l.trim())) {
      const f = line.match(/^(\w+)\s+(\w+)(\?|\[\])?\s*(.*)$/);
      if (!f || line.startsWith('@@')) continue;
      const [, name, type, mod, attrs] = f;
      const isEnum = enums.has(type);
      if (!SCALARS[type] && !isEnum) continue; // a relation field
      const column = attrs.match(/@map\("(\w+)"\)/)?.[1] ?? name;
      colName.set(name, column);
      // A scalar list is a Postgres array; `@db.Date` a date without time.
      const dbType = isEnum
        ? `enum:${enums.get(type)!.db}`
        : mod === '[]'
          ? 'ARRAY'
          : /@db\.Date\b/.test(attrs)
            ? 'date'
            : SCALARS[type];
      columns.push({ table, column, type: dbType, nullable: mod === '?' });
      if (/@id\b/.test(attrs)) keys.push({ table, kind: 'pk', columns: [column] });
      if (/@unique\b/.test(attrs)) keys.push({ table, kind: 'unique', columns: [column] });
    }
    for (const k of body.matchAll(/@@(id|unique|index)\(\[([^\]]+)\]/g)) {
      const cols = k[2].split(',').map((c) => colName.get(c.trim()) ?? c.trim());
      keys.push({ table, kind: k[1] === 'id' ? 'pk' : (k[1] as 'unique' | 'index'), columns: cols });
    }
  }
  return { enums, columns, keys };
}

describe('schema drift: prisma/schema.prisma vs prisma/migrations', () => {
  let db: { url: string; drop: () => Promise<void> };
  let client: Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    await runMigrations(db.url);
    await runMigrations(db.url); // idempotent: a second boot applies nothing
    client = new Client({ connectionString: db.url });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
    await db?.drop();
  });

  const schema = parseSchema(readFileSync(join(__dirname, '../prisma/schema.prisma'), 'utf8'));

  it('has the same tables and columns, with the same types and nullability', async () => {
    const { rows } = await client.query<{
      table_name: string;
      column_name: string;
      data_type: string;
      udt_name: string;
      is_nullable: string;
    }>(
      `SELECT table_name, column_name, data_type, udt_name, is_nullable FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name <> 'migrations' ORDER BY table_name, column_name`,
    );
    const live: Column[] = rows.map((r) => ({
      table: r.table_name,
      column: r.column_name,
      type: r.data_type === 'USER-DEFINED' ? `enum:${r.udt_name}` : r.data_type,
      nullable: r.is_nullable === 'YES',
    }));
    const key = (c: Column) => `${c.table}.${c.column}`;
    const sort = (cs: Column[]) => [...cs].sort((a, b) => key(a).localeCompare(key(b)));
    const normalize = (c: Column) => ({ ...c, type: c.type === 'uuid' ? 'text' : c.type });
    // uuid columns are `String @db.Uuid` in Prisma.
    expect(sort(live).map(normalize)).toEqual(sort(schema.columns));
  });

  it('has the same enums', async () => {
    const { rows } = await client.query<{ typname: string; labels: string[] }>(
      `SELECT t.typname, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
       FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname`,
    );
    const live = Object.fromEntries(rows.map((r) => [r.typname, r.labels]));
    expect(live).toEqual(Object.fromEntries([...schema.enums.values()].map((e) => [e.db, e.values])));
  });

  it('has every primary key, unique constraint and index the schema declares, and no other', async () => {
    const { rows } = await client.query<{ table: string; columns: string[]; is_primary: boolean; is_unique: boolean }>(
      `SELECT t.relname AS table, i.indisprimary AS is_primary, i.indisunique AS is_unique,
              array_agg(a.attname::text ORDER BY k.ord) AS columns
       FROM pg_index i
       JOIN pg_class t ON t.oid = i.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
       CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
       WHERE t.relname <> 'migrations'
       GROUP BY t.relname, i.indexrelid, i.indisprimary, i.indisunique`,
    );
    const fmt = (table: string, kind: string, cols: string[]) => `${table}:${kind}(${cols.join(',')})`;
    const live = rows
      .map((r) => fmt(r.table, r.is_primary ? 'pk' : r.is_unique ? 'unique' : 'index', r.columns))
      .sort();
    const declared = schema.keys.map((k) => fmt(k.table, k.kind, k.columns)).sort();
    expect(live).toEqual(declared);
  });
});
