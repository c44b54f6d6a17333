import type { HarnessSession } from '../adapter';
import { claudeAdapterSuite } from '../../test/claude-suite';
import { ClaudeCodeAdapter } from './adapter';

jest.setTimeout(90_000);

claudeAdapterSuite(
  'ClaudeCodeAdapter (claude -p stream-json against the fake model)',
  'claude-code',
  () => new ClaudeCodeAdapter({ killGraceMs: 500, cancelGraceMs: 5000 }),
  (session: HarnessSession) => (session as unknown as { pid: number | undefined }).pid,
);
