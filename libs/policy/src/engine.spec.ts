import { applyUpdate, compilePolicies, decide, effectiveEgress, initialState, loadErrors, redactText } from './index';
import type { DecideContext, PolicyAction, PolicyEntry, PolicyLevel } from './index';

const ctx: DecideContext = { actor: { id: 'u1', name: 'Ada' }, session: { id: 's1', workspace: '/work/ws' } };
const entry = (level: PolicyLevel, spec: unknown, origin = `${level}:test`): PolicyEntry => ({ level, spec, origin });

let seq = 0;
const sh = (command: string): PolicyAction => ({
  type: 'tool_call',
  callId: `c${++seq}`,
  tool: 'shell',
  nativeTool: 'Bash',
  input: { command },
});
const shellWith = (input: unknown): PolicyAction => ({
  type: 'tool_call',
  callId: `c${++seq}`,
  tool: 'shell',
  nativeTool: 'Bash',
  input,
});
const prompt: PolicyAction = { type: 'prompt', text: 'hi' };

const denyPush = { type: 'deny_commands', name: 'no-push', patterns: ['git push'] };
const askShell = { type: 'ask_on_tools', name: 'ask-shell', tools: ['shell'] };
const allowAll = { type: 'expr', name: 'allow-all', when: 'true', verdict: 'allow', reason: 'trusted session' };

describe('composition', () => {
  it('deny beats ask beats allow, whatever the order and level', () => {
    for (const order of [
      [entry('session', allowAll), entry('agent', askShell), entry('org', denyPush)],
      [entry('org', denyPush), entry('org', askShell), entry('org', allowAll)],
      [entry('session', denyPush), entry('org', allowAll), entry('agent', askShell)],
    ]) {
      const set = compilePolicies(order);
      const push = decide(set, initialState(), sh('git push'), ctx);
      expect(push.verdict).toBe('deny');
      expect(push.policies).toEqual(['no-push']);
      expect(push.askKeys).toEqual([]);
      expect(push.stateUpdate).toEqual({});
      const ls = decide(set, initialState(), sh('ls'), ctx);
      expect(ls.verdict).toBe('ask');
      expect(ls.policies).toEqual(['ask-shell']);
      expect(ls.askKeys).toHaveLength(1);
      expect(decide(set, initialState(), prompt, ctx).verdict).toBe('allow');
    }
  });

  it('an allow never overrides a deny or an ask, but is reported', () => {
    const set = compilePolicies([entry('org', allowAll), entry('session', denyPush)]);
    const d = decide(set, initialState(), sh('git push'), ctx);
    expect(d.verdict).toBe('deny');
    expect(d.reasons.map((r) => [r.policy, r.level, r.verdict])).toEqual([
      ['allow-all', 'org', 'allow'],
      ['no-push', 'session', 'deny'],
    ]);
    const ok = decide(set, initialState(), sh('ls'), ctx);
    expect(ok.verdict).toBe('allow');
    expect(ok.policies).toEqual(['allow-all']);
  });

  it('lists reasons in level order org, agent, session', () => {
    const set = compilePolicies([
      entry('session', { ...askShell, name: 's' }),
      entry('agent', { ...askShell, name: 'a' }),
      entry('org', { ...askShell, name: 'o' }),
    ]);
    const d = decide(set, initialState(), sh('ls'), ctx);
    expect(d.reasons.map((r) => `${r.level}:${r.policy}`)).toEqual(['org:o', 'agent:a', 'session:s']);
    expect(d.policies).toEqual(['o', 'a', 's']);
  });

  it('a session-level policy cannot loosen the org level', () => {
    const org = [
      entry('org', { type: 'cost_budget', name: 'cap', max: 5 }),
      entry('org', { type: 'max_tool_calls', name: 'calls', max: 3 }),
      entry('org', denyPush),
      entry('org', { type: 'egress', name: 'net', allow: ['github.com', '*.npmjs.org'] }),
    ];
    const loosen = [
      entry('session', { type: 'cost_budget', name: 'cap', max: 500 }),
      entry('session', { type: 'max_tool_calls', name: 'calls', max: 1000 }),
      entry('session', allowAll),
      entry('session', { type: 'expr', name: 'push-ok', when: 'action.command == "git push"', verdict: 'allow' }),
      entry('session', { type: 'egress', name: 'net', allow: ['*'] }),
    ];
    const set = compilePolicies([...loosen, ...org]);
    expect(loadErrors(set)).toEqual([]);
    expect(decide(set, initialState(), sh('git push'), ctx).verdict).toBe('deny');
    const spent = applyUpdate(initialState(), { spendUsd: 5, toolCalls: { shell: 1 } });
    const overBudget = decide(set, spent, prompt, ctx);
    expect(overBudget.verdict).toBe('deny');
    expect(overBudget.reasons.find((r) => r.verdict === 'deny')?.level).toBe('org');
    const busy = applyUpdate(initialState(), { toolCalls: { shell: 3 } });
    expect(decide(set, busy, sh('ls'), ctx).verdict).toBe('deny');
    expect(effectiveEgress(set)).toEqual({ allow: ['github.com', '*.npmjs.org'], deny: [] });
  });

  it('a policy that fails to load denies every action, saying why, and the others still run', () => {
    const set = compilePolicies([
      entry('org', { type: 'cost_budget', name: 'typo', maxx: 5 }, 'org:budget'),
      entry('agent', { type: 'no_such_type' }, 'agent.yaml'),
      entry('session', 'not an object', 'session'),
      entry('session', askShell),
    ]);
    const errors = loadErrors(set);
    expect(errors).toEqual([
      { origin: 'org:budget', message: 'invalid policy: unknown field "maxx"' },
      { origin: 'agent.yaml', message: expect.stringContaining('invalid policy') },
      { origin: 'session', message: expect.stringContaining('invalid policy') },
    ]);
    for (const action of [
      prompt,
      sh('ls'),
      { type: 'usage', model: 'm', costUsd: 0.1, inputTokens: 1, outputTokens: 1 },
    ]) {
      const d = decide(set, initialState(), action as PolicyAction, ctx);
      expect(d.verdict).toBe('deny');
      expect(d.policies).toEqual(['typo', 'no_such_type-0', 'policy-0']);
      expect(d.reasons[0].reason).toMatch(/^policy "typo" \(org:budget\) failed to load, so every action is denied: /);
    }
    // loadErrors hands out copies.
    errors[0].message = 'changed';
    expect(loadErrors(set)[0].message).not.toBe('changed');
  });

  it('an unknown or broken egress policy allows no host', () => {
    expect(effectiveEgress(compilePolicies([entry('org', { type: 'egress', allow: 'github.com' })]))).toEqual({
      allow: [],
      deny: [],
    });
    expect(effectiveEgress(compilePolicies([entry('org', { type: 'egresss', allow: ['*'] })])).allow).toEqual([]);
    expect(effectiveEgress(compilePolicies([entry('org', { type: 'cost_budget', max: 'x' })])).allow).toBeNull();
  });

  it('names repeated within a level get a suffix; across levels they stay apart', () => {
    const set = compilePolicies([
      entry('org', { ...askShell, name: 'x' }),
      entry('org', { ...askShell, name: 'x' }),
      entry('session', { ...askShell, name: 'x' }),
    ]);
    const d = decide(set, initialState(), sh('ls'), ctx);
    expect(d.reasons.map((r) => `${r.level}:${r.policy}`)).toEqual(['org:x', 'org:x-2', 'session:x']);
    expect(new Set(d.askKeys).size).toBe(3);
  });

  it('an empty set allows everything and still counts', () => {
    const set = compilePolicies([]);
    expect(decide(set, initialState(), sh('rm -rf /'), ctx)).toEqual({
      verdict: 'allow',
      reasons: [],
      policies: [],
      askKeys: [],
      sessionGrant: null,
      stateUpdate: { toolCalls: { shell: 1 } },
    });
    expect(decide(set, initialState(), prompt, ctx).stateUpdate).toEqual({ prompts: 1 });
  });

  it('never throws: malformed actions are denied with a reason and change nothing', () => {
    const set = compilePolicies([
      entry('org', denyPush),
      entry('org', { type: 'working_dir' }),
      entry('org', { type: 'expr', when: 'action.input != null', verdict: 'ask' }),
    ]);
    const cyclic: Record<string, unknown> = { command: 'ls' };
    cyclic.self = cyclic;
    for (const bad of [null, undefined, 42, { type: 'bogus' }, { type: 'tool_call' }, { type: 'prompt' }]) {
      const d = decide(set, initialState(), bad as never, ctx);
      expect(d.verdict).toBe('deny');
      expect(d.stateUpdate).toEqual({});
      expect(d.reasons[0].reason).toMatch(/denied/);
    }
    expect(decide(set, initialState(), { type: 'bogus' } as never, ctx).reasons[0].reason).toBe(
      'the policy engine failed, so the action is denied: unknown action type "bogus"',
    );
    const withCycle = decide(set, initialState(), shellWith(cyclic), ctx);
    expect(withCycle.verdict).toBe('ask');
    const nullInput = decide(set, initialState(), shellWith(null), ctx);
    expect(nullInput.verdict).toBe('deny');
    expect(nullInput.reasons[0].reason).toBe('shell call without a command line to check');
  });

  it('does not analyze a huge command line: shell policies deny it, quickly', () => {
    const set = compilePolicies([entry('org', denyPush), entry('org', { type: 'working_dir' })]);
    const d = decide(set, initialState(), sh(`echo ${'a;'.repeat(200_000)}`), ctx);
    expect(d.verdict).toBe('deny');
    expect(d.reasons[0].reason).toMatch(/command too long to analyze \(400005 characters, at most 65536\)/);
    expect(d.reasons[0].reason.length).toBeLessThan(400);
    // Without a policy that needs the analysis, it is not refused.
    expect(decide(compilePolicies([]), initialState(), sh(`echo ${'a'.repeat(100_000)}`), ctx).verdict).toBe('allow');
  });

  it('refuses a set it did not compile', () => {
    const d = decide({} as never, initialState(), prompt, ctx);
    expect(d.verdict).toBe('deny');
    expect(d.reasons[0].reason).toMatch(/not a compiled policy set/);
  });
});

describe('egress', () => {
  it('intersects allow lists across policies and levels, and adds up deny lists', () => {
    const set = compilePolicies([
      entry('org', {
        type: 'egress',
        allow: ['*.github.com', 'registry.npmjs.org', 'pypi.org:443'],
        deny: ['evil.io'],
      }),
      entry('agent', {
        type: 'egress',
        allow: ['api.github.com', 'registry.npmjs.org/path', 'example.com', 'pypi.org'],
      }),
      entry('session', { type: 'egress', deny: ['gist.github.com'] }),
    ]);
    const egress = effectiveEgress(set);
    expect(egress.allow?.sort()).toEqual(['api.github.com', 'pypi.org:443', 'registry.npmjs.org/path']);
    expect(egress.deny.sort()).toEqual(['evil.io', 'gist.github.com']);
  });

  it('is null without an allow list, and never affects decisions', () => {
    const set = compilePolicies([entry('org', { type: 'egress', deny: ['x.com'] })]);
    expect(effectiveEgress(set)).toEqual({ allow: null, deny: ['x.com'] });
    expect(decide(set, initialState(), sh('curl x.com'), ctx).verdict).toBe('allow');
  });

  it('an empty allow list allows nothing', () => {
    const set = compilePolicies([
      entry('org', { type: 'egress', allow: [] }),
      entry('org', { type: 'egress', allow: ['*'] }),
    ]);
    expect(effectiveEgress(set).allow).toEqual([]);
  });
});

describe('secrets never reach reasons', () => {
  const secrets = {
    github: 'ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789',
    openai: 'sk-proj-AbCdEfGhIjKlMnOp1234',
    bearer: 'Bearer abcdefghijklmnopqrstuvwxyz012345',
    aws: 'AKIAIOSFODNN7EXAMPLE',
  };

  it.each(Object.entries(secrets))('redacts a %s token from a denied command', (_name, secret) => {
    const set = compilePolicies([entry('org', { type: 'deny_commands', patterns: ['curl'] })]);
    const d = decide(set, initialState(), sh(`curl -H "Authorization: ${secret}" https://api.example.com`), ctx);
    expect(d.verdict).toBe('deny');
    const token = secret.replace(/^Bearer /, '');
    expect(JSON.stringify(d)).not.toContain(token);
    expect(d.reasons[0].reason).toContain('[redacted]');
  });

  it('redacts labels, ask reasons, load errors and expression reasons', () => {
    const set = compilePolicies([
      entry('org', { type: 'after', name: 'a', if_earlier: { match: 'export' }, then: { match: 'git push' } }),
      entry('org', { type: 'ask_on_tools', tools: ['shell'], match: ['TOKEN'] }),
      entry('org', { type: 'expr', when: `action.text == "${secrets.openai}"`, verdict: 'deny' }),
      entry('org', { type: 'deny_commands', patterns: [`re:(${secrets.github}`] }, `org:${secrets.aws}`),
    ]);
    const exported = decide(set, initialState(), sh(`export GITHUB_TOKEN=${secrets.github}`), ctx);
    const text = JSON.stringify([exported, loadErrors(set)]);
    for (const s of [secrets.github, secrets.openai, secrets.aws]) expect(text).not.toContain(s);
    const state = applyUpdate(initialState(), exported.stateUpdate);
    const push = decide(set, state, sh('git push'), ctx);
    expect(JSON.stringify(push)).not.toContain(secrets.github);
    const p = decide(set, initialState(), { type: 'prompt', text: secrets.openai }, ctx);
    expect(JSON.stringify(p)).not.toContain(secrets.openai);
  });

  it('redactText handles key=value, JSON, flags, URLs and private keys, and clips', () => {
    expect(redactText('password=hunter2 api_key: abc --token xyz')).toBe(
      'password=[redacted] api_key: [redacted] --token [redacted]',
    );
    expect(redactText('{"client_secret": "s3cr3t"}')).toBe('{"client_secret": "[redacted]"}');
    expect(redactText('https://user:pa55@host/x')).toBe('https://user:[redacted]@host/x');
    expect(redactText('-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----')).toBe('[redacted]');
    expect(redactText(`sha ${'a'.repeat(40)}`)).toBe('sha [redacted]');
    expect(redactText('plain words stay')).toBe('plain words stay');
    expect(redactText('x'.repeat(300), 10)).toBe(`${'x'.repeat(9)}…`);
    expect(redactText('two\nlines')).toBe('two ⏎ lines');
    const long = `${'x '.repeat(90)}ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789 ${'y'.repeat(100_000)}`;
    expect(redactText(long, 200)).toBe(`${'x '.repeat(90)}[redacted] ${'y'.repeat(8)}…`);
  });
});
