import { Injectable } from '@nestjs/common';
import type { UsageFigures, UsageGrouping, UsageRow } from '@yoke/protocol';
import { Prisma } from '../../generated/prisma/client';
import { Transactions } from '../../core/prisma/transactions';

/** What one report covers: an org, a half-open time range, a grouping, and (for a member) one user's calls. */
export type UsageSlice = {
  by: UsageGrouping;
  from: Date;
  /** Exclusive. */
  to: Date;
  /** Only this user's calls; every call of the org when absent. */
  userId?: string;
};

/** The sums of a slice, from one statement: per group, per UTC day, and in all. */
export type UsageSums = {
  rows: UsageRow[];
  days: { day: string; costMicros: number }[];
  total: UsageFigures;
};

const UTC_DAY = Prisma.sql`to_char(m.at AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;

/** The group key of each grouping over a metered call (`m`) or a day of the rollup (`m` too: same column names). */
const KEY: Record<UsageGrouping, Prisma.Sql> = {
  user: Prisma.sql`m.user_id::text`,
  model: Prisma.sql`m.model`,
  harness: Prisma.sql`m.harness`,
  agent: Prisma.sql`m.agent`,
  session: Prisma.sql`m.session_id::text`,
  day: UTC_DAY,
};
const DAY_KEY = Prisma.sql`to_char(m.day, 'YYYY-MM-DD')`;

const DAY_MS = 86_400_000;

/**
 * The whole UTC days inside `[from, to)`: `[firstDay, endDay)` as midnights, or null when there is none. Those days
 * are read from the daily rollup; what lies before `firstDay` and from `endDay` on is read call by call.
 */
export function wholeDays(from: Date, to: Date): { firstDay: Date; endDay: Date } | null {
  const firstDay = new Date(Math.ceil(from.getTime() / DAY_MS) * DAY_MS);
  const endDay = new Date(Math.floor(to.getTime() / DAY_MS) * DAY_MS);
  return firstDay < endDay ? { firstDay, endDay } : null;
}

type SumsRow = {
  /** GROUPING(key, day): 1 a group of `key`, 2 a day, 3 the total. */
  level: number;
  key: string | null;
  day: string | null;
  label: string | null;
  calls: bigint;
  input_tokens: bigint;
  output_tokens: bigint;
  cache_read_tokens: bigint;
  cache_write_tokens: bigint;
  cost_micros: bigint;
};

@Injectable()
export class UsageRepository {
  constructor(private readonly db: Transactions) {}

  /**
   * The groups, the days and the total of an org's metered calls in `[from, to)`, in one statement (GROUPING SETS),
   * so all three are sums over the same snapshot of the same rows: the total is exactly the sum of the groups and
   * of the days. Whole UTC days come from the daily rollup (`usage_daily`, which triggers keep equal to the calls in
   * every transaction), the partial days at the ends call by call: a month reads about a row per session, user,
   * agent, harness and model per day instead of every call.
   */
  async sums(orgId: string, slice: UsageSlice): Promise<UsageSums> {
    const label = labelOf(orgId, slice.by);
    const mine = slice.userId ? Prisma.sql`AND m.user_id = ${slice.userId}::uuid` : Prisma.empty;
    const days = wholeDays(slice.from, slice.to);
    const from = slice.from.toISOString();
    const to = slice.to.toISOString();
    // Calls of the partial days at either end of the range (all of it when it holds no whole day), one by one.
    const edges = days
      ? Prisma.sql`((m.at >= ${from}::timestamptz AND m.at < ${days.firstDay.toISOString()}::timestamptz)
          OR (m.at >= ${days.endDay.toISOString()}::timestamptz AND m.at < ${to}::timestamptz))`
      : Prisma.sql`(m.at >= ${from}::timestamptz AND m.at < ${to}::timestamptz)`;
    // The whole days, from the daily rollup (kept exact by triggers in the statements that write the calls).
    const whole = days
      ? Prisma.sql`
        UNION ALL
        SELECT ${slice.by === 'day' ? DAY_KEY : KEY[slice.by]} AS key, ${DAY_KEY} AS day, m.calls,
               m.input_tokens, m.output_tokens, m.cache_read_tokens, m.cache_write_tokens, m.cost_micros
        FROM usage_daily m
        WHERE m.org_id = ${orgId}::uuid
          AND m.day >= ${days.firstDay.toISOString().slice(0, 10)}::date
          AND m.day < ${days.endDay.toISOString().slice(0, 10)}::date
          ${mine}`
      : Prisma.empty;
    const found = await this.db.client.$queryRaw<SumsRow[]>`
      WITH calls AS (
        SELECT ${KEY[slice.by]} AS key, ${UTC_DAY} AS day, 1::bigint AS calls,
               m.input_tokens, m.output_tokens, m.cache_read_tokens, m.cache_write_tokens, m.cost_micros
        FROM metered_usage m
        WHERE m.org_id = ${orgId}::uuid AND ${edges}
          ${mine}
        ${whole}
      ), sums AS (
        SELECT GROUPING(key, day)::int AS level, key, day,
               coalesce(sum(calls), 0)::bigint AS calls,
               coalesce(sum(input_tokens), 0)::bigint AS input_tokens,
               coalesce(sum(output_tokens), 0)::bigint AS output_tokens,
               coalesce(sum(cache_read_tokens), 0)::bigint AS cache_read_tokens,
               coalesce(sum(cache_write_tokens), 0)::bigint AS cache_write_tokens,
               coalesce(sum(cost_micros), 0)::bigint AS cost_micros
        FROM calls
        GROUP BY GROUPING SETS ((key), (day), ())
      )
      SELECT s.*, CASE WHEN s.level = 1 THEN ${label} END AS label FROM sums s`;
    const sums: UsageSums = { rows: [], days: [], total: figures(undefined) };
    for (const r of found) {
      if (r.level === 3) sums.total = figures(r);
      else if (r.level === 2) sums.days.push({ day: r.day!, costMicros: safe(r.cost_micros) });
      else sums.rows.push({ key: r.key!, ...(r.label ? { label: r.label } : {}), ...figures(r) });
    }
    return sums;
  }
}

/** A readable name for a group's key: a user's email, a session's title (of this org only). */
function labelOf(orgId: string, by: UsageGrouping): Prisma.Sql {
  if (by === 'user') return Prisma.sql`(SELECT u.email FROM users u WHERE u.id = s.key::uuid)`;
  if (by === 'session')
    return Prisma.sql`(SELECT x.title FROM sessions x WHERE x.id = s.key::uuid AND x.org_id = ${orgId}::uuid)`;
  return Prisma.sql`NULL::text`;
}

function figures(r: SumsRow | undefined): UsageFigures {
  return {
    calls: safe(r?.calls),
    inputTokens: safe(r?.input_tokens),
    outputTokens: safe(r?.output_tokens),
    cacheReadTokens: safe(r?.cache_read_tokens),
    cacheWriteTokens: safe(r?.cache_write_tokens),
    costMicros: safe(r?.cost_micros),
  };
}

/** A bigint sum as a number: exact below 2^53 (about $9 billion in micro-dollars); refused past it, never rounded. */
function safe(v: bigint | number | undefined): number {
  const n = BigInt(v ?? 0);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`a usage sum (${n}) is past 2^53`);
  return Number(n);
}
