import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Prisma } from '../../generated/prisma/client';
import { postgresOutage } from '../errors/outage';
import { DB_CONNECT_TIMEOUT_MS, PrismaService } from './prisma.service';

type Scope = { tx: Prisma.TransactionClient; open: boolean; afterCommit: (() => void)[] };

/** Prepared statements' names by text: the hot reads have a few shapes each (their filters), never one per request. */
const statementNames = new Map<string, string>();
/** Past this many shapes a new one runs unprepared: a bound on what each connection keeps in Postgres. */
const MAX_PREPARED = 256;

/** The name a statement's text is prepared under (the same on every connection), or undefined past MAX_PREPARED. */
export function statementName(text: string): string | undefined {
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < MAX_PREPARED) {
    name = `yoke_${createHash('sha256').update(text).digest('base64url').slice(0, 22)}`;
    statementNames.set(text, name);
  }
  return name;
}

/**
 * One unit of work across repositories. Inside `run`, every repository call of this async context goes to the same
 * Postgres transaction, so a change and its audit event commit together or not at all (DESIGN §9, "fail closed").
 * A nested `run` joins the transaction it is in. Repositories read `client`; services only call `run`.
 */
@Injectable()
export class Transactions {
  private readonly scope = new AsyncLocalStorage<Scope>();

  constructor(private readonly prisma: PrismaService) {}

  /** The client of the transaction this call runs in, or the plain client outside one. */
  get client(): Prisma.TransactionClient {
    const scope = this.scope.getStore();
    // A timer or listener started inside a transaction outlives it: once closed, it gets the plain client.
    return scope?.open ? scope.tx : this.prisma;
  }

  /**
   * The rows of one read statement: straight from `pg` outside a transaction (Prisma's runtime would convert every row,
   * which the hot reads pay for on every request), through the transaction's client inside one. Both return text,
   * `int4`, booleans, JSON and dates alike; cast `int8` and `numeric` columns to text (pg and Prisma differ there).
   *
   * Outside a transaction the statement is prepared on each connection under a name of its text (`statementName`), so
   * Postgres parses it once per connection and, after a few runs, reuses its plan: planning a session's read took
   * longer than running it (bench:journeys). Select named columns only (a column added later changes nothing): once a
   * migration changes the type of a column a prepared statement returns, Postgres refuses that statement on every
   * connection that prepared it, so such a migration needs the servers restarted.
   */
  async rows<T>(query: Prisma.Sql): Promise<T[]> {
    const scope = this.scope.getStore();
    if (scope?.open) return scope.tx.$queryRaw<T[]>(query);
    try {
      const name = statementName(query.text);
      return (await this.prisma.pool.query({ name, text: query.text, values: query.values })).rows as T[];
    } catch (err) {
      throw postgresOutage(err) ?? err;
    }
  }

  /** Whether the caller runs inside a transaction (the audit trail refuses to append outside one). */
  get isActive(): boolean {
    return this.scope.getStore()?.open === true;
  }

  async run<T>(fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
    const current = this.scope.getStore();
    if (current?.open) return fn(current.tx);
    const after: (() => void)[] = [];
    const result = await this.prisma.$transaction(
      (tx) => {
        const scope: Scope = { tx, open: true, afterCommit: after };
        return this.scope.run(scope, () =>
          fn(tx).finally(() => {
            scope.open = false;
          }),
        );
      },
      // A turn at the pool may wait as long as any query does for a connection (Prisma's own default is 2 s, short
      // of what a burst of writes to one org, serialized on its audit head, can take on a loaded machine).
      { maxWait: DB_CONNECT_TIMEOUT_MS },
    );
    for (const hook of after) hook();
    return result;
  }

  /** Runs `hook` once the current transaction commits (never if it rolls back); at once outside a transaction. */
  afterCommit(hook: () => void): void {
    const scope = this.scope.getStore();
    if (scope?.open) scope.afterCommit.push(hook);
    else hook();
  }
}
