import { queuedReason, revokedRunnerNote, undeliveredNote } from '@/lib/delivery';

describe('undeliveredNote', () => {
  it('promises delivery when the runner is only offline', () => {
    expect(undeliveredNote({ runnerName: 'laptop', runnerRevoked: false })).toBe(
      'Queued: it will be delivered when the runner laptop is back online.',
    );
  });

  it('names a revoked runner and promises nothing', () => {
    expect(undeliveredNote({ runnerName: 'laptop', runnerRevoked: true })).toBe(
      'Not delivered: the runner laptop was revoked: this prompt will not be delivered.',
    );
  });

  it('speaks of "the runner" when its state is unknown', () => {
    expect(undeliveredNote(null)).toBe('Queued: it will be delivered when the runner is back online.');
  });
});

describe('queuedReason', () => {
  it('names an offline runner: the prompt goes when it is back', () => {
    expect(queuedReason({ runnerName: 'laptop', runnerOnline: false, runnerRevoked: false })).toBe(
      'Queued: the runner laptop is offline',
    );
  });

  it('names a revoked runner: the prompt will never go', () => {
    expect(queuedReason({ runnerName: 'laptop', runnerOnline: false, runnerRevoked: true })).toBe(
      'Not delivered: the runner laptop was revoked',
    );
  });

  it('says the runner is taking it when it is online', () => {
    expect(queuedReason({ runnerName: 'laptop', runnerOnline: true, runnerRevoked: false })).toBe(
      'Queued: handing it to the runner laptop',
    );
  });
});

describe('revokedRunnerNote', () => {
  it('says nothing while the runner may still come back', () => {
    expect(revokedRunnerNote({ runnerName: 'laptop', runnerRevoked: false })).toBeNull();
    expect(revokedRunnerNote(null)).toBeNull();
  });

  it('says plainly that a prompt would never be delivered', () => {
    expect(revokedRunnerNote({ runnerName: 'laptop', runnerRevoked: true })).toBe(
      'The runner laptop was revoked: a prompt sent here would never be delivered. Fork the session to go on with another runner.',
    );
  });
});
