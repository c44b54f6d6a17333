import { Logger } from '@nestjs/common';
import { type JobName, type JobPayload, JobPayloads } from '@yoke/protocol';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { awaitDependency, DEPENDENCY_WAIT_MS } from '../errors/outage';
import type { JobRegistry } from './job-registry';

export const QUEUE_NAME = 'yoke';
/** Retries and backoff, set once for every job. */
export const JOB_ATTEMPTS = 5;
export const JOB_BACKOFF_MS = 1_000;
/**
 * Jobs retried more than the default. `audit.deliver` waits 1, 2, 4 … 32 s between attempts (about a minute in all,
 * no wait longer than 32 s); then the sinks' sweep starts it again, so a sink that is down is retried for as long
 * as it stays down.
 */
export const JOB_ATTEMPTS_BY_NAME: Partial<Record<JobName, number>> = { 'audit.deliver': 7 };

export interface EnqueueOptions {
  /** Deterministic id: enqueuing the same job twice is a no-op. Must not contain ':'. */
  jobId: string;
  delayMs?: number;
  /**
   * The id holds only while the job waits, retries or runs (not once it is done); a job enqueued while one with
   * the id runs starts once that one ends. Bursts coalesce, and two jobs with the id never run at once.
   */
  coalesce?: boolean;
}

const attemptsOf = (name: JobName) => JOB_ATTEMPTS_BY_NAME[name] ?? JOB_ATTEMPTS;

/** Producers enqueue through this; BullMQ in team mode, in-process timers in embedded mode. */
export abstract class JobQueue {
  abstract enqueue<N extends JobName>(name: N, payload: JobPayload<N>, opts: EnqueueOptions): Promise<void>;
  abstract close(): Promise<void>;
}

export class BullJobQueue extends JobQueue {
  private readonly queue: Queue;

  constructor(connection: Redis, prefix: string) {
    super();
    // Loaded here, in team mode only: embedded mode never needs BullMQ (~170 modules).
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Queue: BullQueue } = require('bullmq') as typeof import('bullmq');
    this.queue = new BullQueue(QUEUE_NAME, {
      connection,
      prefix: `${prefix}:bull`,
      defaultJobOptions: {
        attempts: JOB_ATTEMPTS,
        backoff: { type: 'exponential', delay: JOB_BACKOFF_MS },
        removeOnComplete: 1000,
        removeOnFail: 5000,
      },
    });
  }

  /**
   * Adds the job, or rejects with `service.unavailable` (redis) when Redis has not taken it in DEPENDENCY_WAIT_MS. The
   * command is not withdrawn: it stays in the client's offline queue and lands when Redis is back (while this
   * process lives), and the deterministic job id makes a caller's retry of the same job a no-op.
   */
  async enqueue<N extends JobName>(name: N, payload: JobPayload<N>, opts: EnqueueOptions): Promise<void> {
    const data = JobPayloads[name].parse(payload);
    const id = opts.coalesce ? { deduplication: { id: opts.jobId, keepLastIfActive: true } } : { jobId: opts.jobId };
    await awaitDependency(
      'redis',
      this.queue.add(name, data, { ...id, delay: opts.delayMs, attempts: attemptsOf(name) }),
      DEPENDENCY_WAIT_MS,
    );
  }

  async close(): Promise<void> {
    await this.queue.close();
  }
}

/** Embedded mode: jobs run in this process, with the same payload checks, retries and dedup by id. */
export class InProcessJobQueue extends JobQueue {
  private readonly logger = new Logger(InProcessJobQueue.name);
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Coalescing jobs running now, and whether another was enqueued meanwhile (it starts when this one ends). */
  private readonly running = new Map<string, boolean>();

  constructor(private readonly registry: JobRegistry) {
    super();
  }

  async enqueue<N extends JobName>(name: N, payload: JobPayload<N>, opts: EnqueueOptions): Promise<void> {
    if (opts.coalesce && this.running.has(opts.jobId)) {
      this.running.set(opts.jobId, true);
      return;
    }
    if (this.timers.has(opts.jobId)) return;
    const data = JobPayloads[name].parse(payload);
    const done = () => {
      this.timers.delete(opts.jobId);
      const again = this.running.get(opts.jobId);
      this.running.delete(opts.jobId);
      if (again) void this.enqueue(name, payload, opts);
    };
    const attempt = (n: number, delay: number) => {
      const timer = setTimeout(() => {
        if (opts.coalesce && !this.running.has(opts.jobId)) this.running.set(opts.jobId, false);
        this.registry.run(name, data).then(done, (err: unknown) => {
          if (n >= attemptsOf(name)) {
            this.logger.error({ err, job: name, jobId: opts.jobId }, 'job failed for good');
            done();
          } else attempt(n + 1, JOB_BACKOFF_MS * 2 ** (n - 1));
        });
      }, delay);
      timer.unref();
      this.timers.set(opts.jobId, timer);
    };
    attempt(1, opts.delayMs ?? 0);
  }

  async close(): Promise<void> {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
