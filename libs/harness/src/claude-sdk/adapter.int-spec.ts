import type { HarnessSession } from '../adapter';
import { claudeAdapterSuite } from '../../test/claude-suite';
import { ClaudeSdkAdapter } from './adapter';

jest.setTimeout(90_000);

claudeAdapterSuite(
  'ClaudeSdkAdapter (Claude Agent SDK in an agent process against the fake model)',
  'claude-sdk',
  () => new ClaudeSdkAdapter({ killGraceMs: 500, cancelGraceMs: 5000 }),
  (session: HarnessSession) => (session as unknown as { pid: number | undefined }).pid,
);
