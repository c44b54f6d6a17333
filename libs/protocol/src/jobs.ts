import { z } from 'zod';
import { IsoDate, Uuid } from './common';

/**
 * Background jobs: every job name mapped to its payload schema. Producers and the worker both parse with these;
 * a job whose payload does not parse fails without running.
 */
export const JobPayloads = {
  /** A runner disconnected: after a grace period, its sessions still marked running are failed, with the reason. */
  'runner.offline-check': z.strictObject({ runnerId: Uuid, orgId: Uuid, disconnectedAt: IsoDate }),
  /** Sign a checkpoint of the org's audit log now (after N events, or a heartbeat every T seconds). */
  'audit.checkpoint': z.strictObject({ orgId: Uuid }),
  /** Write an audit export bundle (streamed; progress on the export row). */
  'audit.export': z.strictObject({ orgId: Uuid, exportId: Uuid }),
  /** Deliver the next batch of an org's audit events to one sink from its cursor (retried with backoff). */
  'audit.deliver': z.strictObject({ orgId: Uuid, sinkId: Uuid }),
  /** Erase the org's session and audit content past its retention, except what a legal hold keeps (nightly). */
  'retention.sweep': z.strictObject({ orgId: Uuid }),
} as const;

export type JobName = keyof typeof JobPayloads;
export type JobPayload<N extends JobName> = z.infer<(typeof JobPayloads)[N]>;
export const JOB_NAMES = Object.keys(JobPayloads) as JobName[];
