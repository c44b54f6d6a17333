import { decisionForKey } from '@/hooks/use-decision-keys';

describe('decisionForKey', () => {
  it('a approves and d denies whatever the request offers', () => {
    expect(decisionForKey('a', ['approve', 'deny'])).toBe('approve');
    expect(decisionForKey('d', ['approve', 'deny'])).toBe('deny');
  });

  it('s approves for the session only where the request offers it', () => {
    expect(decisionForKey('s', ['approve', 'approve_session', 'deny'])).toBe('approve_session');
    expect(decisionForKey('s', ['approve', 'deny'])).toBeNull();
  });

  it('other keys, and capitals (Shift held), decide nothing', () => {
    for (const key of ['A', 'D', 'S', 'x', 'Enter', ' ']) expect(decisionForKey(key, ['approve_session'])).toBeNull();
  });
});
