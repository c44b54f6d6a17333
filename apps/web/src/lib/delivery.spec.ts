import { undeliveredNote } from '@/lib/delivery';

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
