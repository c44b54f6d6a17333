import { parentPort, workerData } from 'node:worker_threads';
import type { AuditExportFormat } from '@yoke/protocol';
import { checkBatch } from './verify-events';
import { viewOf } from './views';

/** A worker of `EventPool`: checks batches of events.jsonl lines on its own thread, in the order they come. */
const { orgId, format } = workerData as { orgId: string; format: AuditExportFormat };
const view = viewOf(format);
parentPort?.on('message', (bytes: Uint8Array) => {
  const r = checkBatch(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), orgId, view);
  const transfer: ArrayBuffer[] = [r.seqs.buffer as ArrayBuffer, r.leaves.buffer as ArrayBuffer];
  if (r.rowLengths) transfer.push(r.rowLengths.buffer as ArrayBuffer);
  parentPort?.postMessage(r, transfer);
});
