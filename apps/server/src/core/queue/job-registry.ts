import { Injectable, Logger } from '@nestjs/common';
import { JOB_NAMES, type JobName, type JobPayload, JobPayloads } from '@yoke/protocol';
import { z } from 'zod';

export interface JobProcessor<N extends JobName = JobName> {
  readonly job: N;
  handle(payload: JobPayload<N>): Promise<void>;
}

/** Where processors register; runs a job by name after parsing its payload with the job's schema. */
@Injectable()
export class JobRegistry {
  private readonly logger = new Logger(JobRegistry.name);
  private readonly processors = new Map<JobName, JobProcessor>();

  register(processor: JobProcessor): void {
    if (this.processors.has(processor.job)) throw new Error(`job ${processor.job} has two processors`);
    this.processors.set(processor.job, processor);
  }

  /** Boot check for processes that run jobs: every job has exactly one processor. */
  assertComplete(): void {
    const missing = JOB_NAMES.filter((n) => !this.processors.has(n));
    if (missing.length) throw new Error(`jobs without a processor: ${missing.join(', ')}`);
  }

  async run(name: string, data: unknown): Promise<void> {
    if (!(name in JobPayloads)) throw new Error(`unknown job ${name}`);
    const job = name as JobName;
    const parsed = JobPayloads[job].safeParse(data);
    if (!parsed.success) throw new Error(`invalid ${job} payload: ${z.prettifyError(parsed.error)}`);
    const processor = this.processors.get(job);
    if (!processor) throw new Error(`no processor for ${job}`);
    this.logger.debug({ job }, 'running job');
    await processor.handle(parsed.data as never);
  }
}
