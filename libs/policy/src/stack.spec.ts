import { compilePolicies, decide, initialState, loadErrors, policyEntries, policyStack } from './index';
import type { DecideContext } from './index';

const ctx: DecideContext = { actor: null, session: { id: 's1', workspace: '/work/ws' } };
const denyPush = { type: 'deny_commands', name: 'no-push', patterns: ['git push'] };
const askShell = { type: 'ask_on_tools', name: 'ask-shell', tools: ['shell'] };
const broken = { type: 'expr', when: 'request.nope', verdict: 'deny' };

describe('policyEntries', () => {
  it('labels each entry with its source and 1-based place', () => {
    expect(policyEntries('org', [denyPush, askShell])).toEqual([
      { level: 'org', spec: denyPush, origin: 'org#1' },
      { level: 'org', spec: askShell, origin: 'org#2' },
    ]);
    expect(policyEntries('agent', [denyPush], 'policies')[0].origin).toBe('policies#1');
  });
});

describe('policyStack', () => {
  const spec = {
    agent: { name: 'reviewer', policies: [askShell, broken] },
    policies: [
      ...policyEntries('session', [denyPush]),
      ...policyEntries('org', [denyPush]),
      // Only the agent itself brings agent policies: an agent-level entry among the server's is not one of them.
      { level: 'agent' as const, spec: askShell, origin: 'stray#1' },
    ],
  };

  it('orders org, the agent own, session, labelling the agent policies by its name', () => {
    expect(policyStack(spec).map((e) => [e.level, e.origin])).toEqual([
      ['org', 'org#1'],
      ['agent', 'agent reviewer#1'],
      ['agent', 'agent reviewer#2'],
      ['session', 'session#1'],
    ]);
  });

  it('names a policy that fails to load by that label, in load errors and in the reason it denies with', () => {
    const set = compilePolicies(policyStack(spec));
    expect(loadErrors(set)).toEqual([{ origin: 'agent reviewer#2', message: expect.stringMatching(/request/) }]);
    const d = decide(set, initialState(), { type: 'prompt', text: 'hi' }, ctx);
    expect(d.verdict).toBe('deny');
    expect(d.reasons.map((r) => r.reason).join('\n')).toContain('(agent reviewer#2)');
  });

  it('is the agent alone when the server sent no entries', () => {
    expect(policyStack({ agent: { name: 'a', policies: [denyPush] }, policies: [] })).toEqual([
      { level: 'agent', spec: denyPush, origin: 'agent a#1' },
    ]);
  });
});
