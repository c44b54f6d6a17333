import type { ItemDraft } from '@yoke/protocol';
import { rollUp, type SessionRollup } from './session-status';

const base: SessionRollup = { status: 'idle', statusReason: null, costUsd: 0, inputTokens: 0, outputTokens: 0 };
const at = { seq: 1, createdAt: new Date(0).toISOString() };

describe('rollUp', () => {
  it('follows a turn from running to idle and sums usage', () => {
    const items: ItemDraft[] = [
      { ...at, type: 'turn_started' },
      { ...at, type: 'usage', model: 'm', inputTokens: 10, outputTokens: 5, cachedTokens: 0, costUsd: 0.25 },
      { ...at, type: 'usage', model: 'm', inputTokens: 1, outputTokens: 1, cachedTokens: 0, costUsd: 0.5 },
    ];
    const mid = rollUp(base, items);
    expect(mid).toEqual({ status: 'running', statusReason: null, costUsd: 0.75, inputTokens: 11, outputTokens: 6 });
    expect(rollUp(mid, [{ ...at, type: 'turn_completed', stopReason: 'end_turn' }]).status).toBe('idle');
  });

  it('records why a turn failed and why it waits', () => {
    const failed = rollUp(base, [{ ...at, type: 'turn_failed', error: 'runner restarted' }]);
    expect(failed).toMatchObject({ status: 'failed', statusReason: 'runner restarted' });
    const waiting = rollUp(base, [
      {
        ...at,
        type: 'approval_request',
        approvalId: 'a',
        policy: 'p',
        reason: 'git push after npm install',
        options: [],
      },
    ]);
    expect(waiting).toMatchObject({ status: 'waiting_approval', statusReason: 'git push after npm install' });
  });

  it('pauses the session when a usage report waits for a human', () => {
    const paused = rollUp(base, [
      {
        ...at,
        type: 'approval_request',
        approvalId: 'a',
        subject: 'usage',
        policy: 'budget',
        reason: '$3 spent',
        options: [],
      },
    ]);
    expect(paused).toMatchObject({ status: 'paused', statusReason: '$3 spent' });
  });

  it('never leaves archived', () => {
    expect(rollUp({ ...base, status: 'archived' }, [{ ...at, type: 'turn_started' }]).status).toBe('archived');
  });
});
