import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { AuditExportFormat } from '@yoke/protocol';
import type { BatchResult } from './verify-events';

/** Below this many events, starting workers costs more than it saves. */
const MIN_EVENTS_FOR_WORKERS = 20_000;

/**
 * Workers for a bundle of `events` events: one per CPU, at most 4 (on 2 CPUs, 2 workers verified a million events
 * 1.5 times as fast as one thread, gunzip and the archive staying on this one); none on one CPU, for small bundles,
 * or from TypeScript sources (tests: workers would not load them).
 */
export function defaultWorkers(events: number): number {
  const cpus = availableParallelism();
  if (events < MIN_EVENTS_FOR_WORKERS || cpus < 2 || !__filename.endsWith('.js')) return 0;
  return Math.min(4, cpus);
}

/** Bounds each worker's young generation (its garbage is a parsed line at a time); a larger one was no faster. */
const resourceLimits = { maxYoungGenerationSizeMb: 16 };

function spawn(workerData: { orgId: string; format: AuditExportFormat }): Worker {
  const options = { workerData, resourceLimits };
  if (__filename.endsWith('.js')) return new Worker(join(__dirname, 'verify-worker.js'), options);
  // From TypeScript sources (benches): the worker inherits this process's require hook (its execArgv).
  const entry = join(__dirname, 'verify-worker.ts');
  return new Worker(`require(${JSON.stringify(entry)})`, { ...options, eval: true });
}

interface Pending {
  resolve: (r: BatchResult) => void;
  reject: (e: Error) => void;
}

/**
 * Worker threads that check batches of events.jsonl lines (`checkBatch`) while this thread reads the archive;
 * results are handed on strictly in the order the batches were submitted. `onPressure(true)` asks the reader to
 * pause while too many batches are in flight, `onPressure(false)` to go on.
 */
export class EventPool {
  private readonly workers: Worker[];
  private readonly pending: Pending[][];
  private next = 0;
  private inFlight = 0;
  private paused = false;
  private tail: Promise<void> = Promise.resolve();
  private error: Error | null = null;

  constructor(
    count: number,
    data: { orgId: string; format: AuditExportFormat },
    private readonly onResult: (batch: Buffer, r: BatchResult) => void,
    private readonly onPressure: (paused: boolean) => void,
  ) {
    this.workers = Array.from({ length: count }, () => spawn(data));
    this.pending = this.workers.map(() => []);
    this.workers.forEach((w, i) => {
      w.on('message', (r: BatchResult) => this.pending[i].shift()?.resolve(r));
      w.on('error', (e: Error) => {
        for (const p of this.pending[i].splice(0)) p.reject(e);
      });
    });
  }

  submit(batch: Buffer): void {
    const i = this.next++ % this.workers.length;
    const copy = new Uint8Array(batch.length);
    copy.set(batch);
    const result = new Promise<BatchResult>((resolve, reject) => this.pending[i].push({ resolve, reject }));
    this.workers[i].postMessage(copy, [copy.buffer]);
    this.inFlight++;
    if (!this.paused && this.inFlight >= this.workers.length * 3) {
      this.paused = true;
      this.onPressure(true);
    }
    // Never a rejected chain (it would be unhandled until `settled`): the first error is kept instead.
    this.tail = this.tail.then(async () => {
      try {
        const r = await result;
        this.inFlight--;
        if (!this.error) this.onResult(batch, r);
      } catch (e) {
        this.error ??= e as Error;
      }
      if (this.paused && this.inFlight <= this.workers.length) {
        this.paused = false;
        this.onPressure(false);
      }
    });
  }

  /** Resolves once every submitted batch's result was handed on; rejects if a worker or a handler failed. */
  async settled(): Promise<void> {
    await this.tail;
    if (this.error) throw this.error;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
