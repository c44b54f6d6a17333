import { hostMain } from '../host/host-process';
import { ClaudeSdkLoop } from './agent-loop';

/** The agent process of the `claude-sdk` harness: one Claude Agent SDK query, driven over `yoke/ipc`. */
if (require.main === module) {
  const cancelGraceMs = Number(process.argv[2]) || 5000;
  const maxRetries = Number.isInteger(Number(process.argv[3])) ? Number(process.argv[3]) : 2;
  hostMain((ctx) => ClaudeSdkLoop.start(ctx, { cancelGraceMs, maxRetries }));
}
