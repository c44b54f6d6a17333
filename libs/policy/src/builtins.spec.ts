import { applyUpdate, compilePolicies, confirmUpdate, decide, initialState, loadErrors } from './index';
import type { DecideContext, Decision, PolicyAction, PolicyLevel, PolicyState } from './index';

const ctx: DecideContext = {
  actor: { id: 'u1', name: 'Ada' },
  session: { id: 's1', workspace: '/work/ws', ownerId: 'u1' },
};

function policies(...specs: unknown[]) {
  return compilePolicies(specs.map((spec, i) => ({ level: 'org' as PolicyLevel, spec, origin: `test:${i}` })));
}

let seq = 0;
function call(tool: string, input: unknown): PolicyAction {
  return { type: 'tool_call', callId: `c${++seq}`, tool: tool as 'shell', nativeTool: tool, input };
}
const sh = (command: string, extra: Record<string, unknown> = {}): PolicyAction => call('shell', { command, ...extra });
const usage = (costUsd: number): Extract<PolicyAction, { type: 'usage' }> => ({
  type: 'usage',
  model: 'm',
  costUsd,
  inputTokens: 1,
  outputTokens: 1,
});
const prompt = (text = 'hello'): PolicyAction => ({ type: 'prompt', text });

/** Decides and, like the runner, applies the state update when the action goes ahead (usage: always). */
function step(set: ReturnType<typeof policies>, state: PolicyState, action: PolicyAction, approve = false) {
  const d = decide(set, state, action, ctx);
  const proceeds = action.type === 'usage' || d.verdict === 'allow' || (d.verdict === 'ask' && approve);
  return { d, state: proceeds ? applyUpdate(state, d.stateUpdate) : state };
}

const reasonOf = (d: Decision): string => d.reasons.map((r) => r.reason).join(' | ');

describe('cost_budget', () => {
  const budget = () => policies({ type: 'cost_budget', name: 'budget', ask_at: [0.01], max: 0.05 });

  it('asks once spend reaches a threshold, and not again once confirmed', () => {
    const set = budget();
    let state = initialState();
    let r = step(set, state, usage(0.004));
    expect(r.d.verdict).toBe('allow');
    state = r.state;
    expect(state.spendUsd).toBeCloseTo(0.004);

    r = step(set, state, usage(0.006));
    expect(r.d.verdict).toBe('ask');
    expect(r.d.policies).toEqual(['budget']);
    expect(reasonOf(r.d)).toMatch(/session spend \$0\.01 reached \$0\.01; confirm to go on/);
    expect(r.d.askKeys).toEqual(['cost_budget:org:budget:0.01']);
    state = r.state; // usage always counts
    expect(state.spendUsd).toBeCloseTo(0.01);

    // Until confirmed, every prompt and tool call asks too (the session is paused).
    expect(decide(set, state, prompt(), ctx).verdict).toBe('ask');
    expect(decide(set, state, sh('ls'), ctx).verdict).toBe('ask');

    state = applyUpdate(state, confirmUpdate(r.d.askKeys));
    expect(state.confirmed).toEqual(['cost_budget:org:budget:0.01']);
    expect(decide(set, state, prompt(), ctx).verdict).toBe('allow');
    r = step(set, state, usage(0.01));
    expect(r.d.verdict).toBe('allow');
    state = r.state;

    // The cap denies the usage that reaches it, and everything after.
    r = step(set, state, usage(0.03));
    expect(r.d.verdict).toBe('deny');
    expect(reasonOf(r.d)).toMatch(/at or over the cap of \$0\.05/);
    state = r.state;
    expect(decide(set, state, prompt(), ctx).verdict).toBe('deny');
    expect(decide(set, state, sh('ls'), ctx).verdict).toBe('deny');
  });

  it('asks for every threshold crossed at once, and confirming them all stops the asking', () => {
    const set = policies({ type: 'cost_budget', name: 'b', ask_at: [3, 1, 2, 2] });
    const r = step(set, initialState(), usage(2.5));
    expect(r.d.verdict).toBe('ask');
    expect(r.d.askKeys).toEqual(['cost_budget:org:b:1', 'cost_budget:org:b:2']);
    const confirmed = applyUpdate(r.state, confirmUpdate(r.d.askKeys));
    expect(decide(set, confirmed, prompt(), ctx).verdict).toBe('allow');
    const next = decide(set, confirmed, usage(0.5), ctx);
    expect(next.verdict).toBe('ask');
    expect(next.askKeys).toEqual(['cost_budget:org:b:3']);
  });

  it('tolerates float sums at a threshold (0.1 + 0.2 reaches 0.3)', () => {
    const set = policies({ type: 'cost_budget', ask_at: [0.3] });
    const { state } = step(set, initialState(), usage(0.1));
    expect(decide(set, state, usage(0.2), ctx).verdict).toBe('ask');
  });

  it.each([
    ['negative', -1, /negative/],
    ['NaN', Number.NaN, /NaN/],
    ['infinite', Number.POSITIVE_INFINITY, /not finite/],
    ['a string', '0.5', /not a number: string/],
    ['missing', undefined, /not a number: undefined/],
  ])('refuses a %s cost and never credits it', (_label, cost, why) => {
    const set = budget();
    const start = applyUpdate(initialState(), { spendUsd: 0.02 });
    const d = decide(set, start, { ...usage(0), costUsd: cost as number }, ctx);
    expect(d.verdict).toBe('deny');
    expect(reasonOf(d)).toMatch(why);
    expect(d.stateUpdate).toEqual({});
    expect(applyUpdate(start, d.stateUpdate).spendUsd).toBe(0.02);
  });

  it('never credits an invalid cost even with no budget policy', () => {
    for (const cost of [-5, Number.NaN, Number.NEGATIVE_INFINITY, '3']) {
      const d = decide(policies(), initialState(), { ...usage(0), costUsd: cost as number }, ctx);
      expect(d.stateUpdate).toEqual({});
    }
    expect(decide(policies(), initialState(), usage(0), ctx).stateUpdate).toEqual({});
    expect(decide(policies(), initialState(), usage(0.25), ctx).stateUpdate).toEqual({ spendUsd: 0.25 });
  });

  it('rejects a negative threshold or cap at load', () => {
    const set = policies({ type: 'cost_budget', max: -1 });
    expect(loadErrors(set)).toHaveLength(1);
    expect(decide(set, initialState(), prompt(), ctx).verdict).toBe('deny');
  });
});

describe('after', () => {
  const gitAfterNpm = () =>
    policies({
      type: 'after',
      name: 'push-after-install',
      if_earlier: { tool: 'shell', match: '\\bnpm (i|install|add) ' },
      then: { tool: 'shell', match: '\\bgit push\\b' },
      reason: 'a package was installed earlier; confirm the push',
    });

  it('allows the later call in a fresh session', () => {
    expect(decide(gitAfterNpm(), initialState(), sh('git push origin main'), ctx).verdict).toBe('allow');
  });

  it('asks about the later call once the earlier one ran, with the reason and the earlier call', () => {
    const set = gitAfterNpm();
    const install = step(set, initialState(), sh('npm install left-pad'));
    expect(install.d.verdict).toBe('allow');
    expect(install.d.stateUpdate.labels).toEqual({ 'after.org.push-after-install': '`npm install left-pad`' });
    expect(install.state.labels['after.org.push-after-install'].count).toBe(1);

    const push = decide(set, install.state, sh('git push'), ctx);
    expect(push.verdict).toBe('ask');
    expect(push.policies).toEqual(['push-after-install']);
    expect(reasonOf(push)).toContain('a package was installed earlier; confirm the push');
    expect(reasonOf(push)).toContain('npm install left-pad');
    expect(push.askKeys).toHaveLength(1);
    // Unrelated calls are not affected.
    expect(decide(set, install.state, sh('git status'), ctx).verdict).toBe('allow');
  });

  it('sets the label only when the earlier call proceeds', () => {
    const set = compilePolicies([
      { level: 'org', origin: 'o', spec: { type: 'deny_commands', patterns: ['npm install left-pad'] } },
      {
        level: 'org',
        origin: 'o',
        spec: { type: 'after', name: 'a', if_earlier: { match: 'npm (i|install) ' }, then: { match: 'git push' } },
      },
    ]);
    const denied = step(set, initialState(), sh('npm install left-pad'));
    expect(denied.d.verdict).toBe('deny');
    expect(denied.d.stateUpdate).toEqual({});
    expect(denied.state.labels).toEqual({});
    expect(decide(set, denied.state, sh('git push'), ctx).verdict).toBe('allow');

    // An earlier call that is asked about carries the label in its update: the runner applies it on approval only.
    const asked = compilePolicies([
      { level: 'org', origin: 'o', spec: { type: 'ask_on_tools', tools: ['shell'], match: ['^npm '] } },
      {
        level: 'org',
        origin: 'o',
        spec: { type: 'after', name: 'a', if_earlier: { match: 'npm (i|install) ' }, then: { match: 'git push' } },
      },
    ]);
    const rejected = step(asked, initialState(), sh('npm i x'), false);
    expect(rejected.d.verdict).toBe('ask');
    expect(rejected.d.stateUpdate.labels).toBeDefined();
    expect(decide(asked, rejected.state, sh('git push'), ctx).verdict).toBe('allow');
    const approved = step(asked, initialState(), sh('npm i x'), true);
    expect(decide(asked, approved.state, sh('git push'), ctx).verdict).toBe('ask');
  });

  it('asks when one command line does both', () => {
    const d = decide(gitAfterNpm(), initialState(), sh('npm i left-pad && git push'), ctx);
    expect(d.verdict).toBe('ask');
    expect(reasonOf(d)).toContain('in the same call');
  });

  it('denies instead of asking when told to, and shares a named label between policies', () => {
    const set = policies(
      {
        type: 'after',
        name: 'mark',
        if_earlier: { tool: 'web_fetch', label: 'read_untrusted' },
        then: { tool: 'nope*' },
      },
      {
        type: 'after',
        name: 'guard',
        if_earlier: { label: 'read_untrusted' },
        then: { tool: 'shell' },
        verdict: 'deny',
      },
    );
    expect(decide(set, initialState(), sh('ls'), ctx).verdict).toBe('allow');
    const fetched = step(set, initialState(), call('web_fetch', { url: 'https://example.com' }));
    expect(fetched.d.stateUpdate.labels).toEqual({ read_untrusted: 'web_fetch' });
    const d = decide(set, fetched.state, sh('ls'), ctx);
    expect(d.verdict).toBe('deny');
    expect(d.policies).toEqual(['guard']);
  });

  it('rejects a label on the later call and a missing or doubled matcher', () => {
    expect(loadErrors(policies({ type: 'after', then: { match: 'x' } }))[0].message).toMatch(/if_earlier/);
    expect(
      loadErrors(policies({ type: 'after', if_earlier: {}, before: {}, then: { match: 'x' } }))[0].message,
    ).toMatch(/another name/);
    expect(loadErrors(policies({ type: 'after', if_earlier: {}, then: { label: 'x' } }))[0].message).toMatch(
      /label only applies/,
    );
  });
});

describe('max_tool_calls', () => {
  it('limits tool calls per session; prompts and usage do not count', () => {
    const set = policies({ type: 'max_tool_calls', name: 'cap', max: 2 });
    let state = initialState();
    for (const action of [call('file_read', { path: 'a' }), prompt(), usage(0.1), sh('ls')]) {
      const r = step(set, state, action);
      expect(r.d.verdict).toBe('allow');
      state = r.state;
    }
    expect(state.toolCalls).toBe(2);
    const d = decide(set, state, call('search', { query: 'x' }), ctx);
    expect(d.verdict).toBe('deny');
    expect(reasonOf(d)).toMatch(/already made 2 tool calls \(limit 2\)/);
    expect(decide(set, state, prompt(), ctx).verdict).toBe('allow');
  });

  it('limits per kind, other kinds unaffected', () => {
    const set = policies({ type: 'max_tool_calls', per_kind: { shell: 1, web_fetch: 0 } });
    const { state } = step(set, initialState(), sh('ls'));
    expect(decide(set, state, sh('ls'), ctx).verdict).toBe('deny');
    expect(decide(set, state, call('file_read', { path: 'a' }), ctx).verdict).toBe('allow');
    expect(decide(set, initialState(), call('web_fetch', { url: 'u' }), ctx).verdict).toBe('deny');
  });

  it('a denied call is not counted', () => {
    const set = compilePolicies([
      { level: 'org', origin: 'o', spec: { type: 'max_tool_calls', max: 1 } },
      { level: 'org', origin: 'o', spec: { type: 'deny_commands', patterns: ['rm'] } },
    ]);
    const denied = step(set, initialState(), sh('rm x'));
    expect(denied.d.verdict).toBe('deny');
    expect(denied.state.toolCalls).toBe(0);
    expect(decide(set, denied.state, sh('ls'), ctx).verdict).toBe('allow');
  });

  it('asks per call when the verdict is ask; confirming does not silence the next one', () => {
    const set = policies({ type: 'max_tool_calls', name: 'm', max: 0, verdict: 'ask' });
    const d = decide(set, initialState(), sh('ls'), ctx);
    expect(d.verdict).toBe('ask');
    expect(d.askKeys[0]).toMatch(/^max_tool_calls:org:m:@call:c\d+$/);
    expect(confirmUpdate(d.askKeys)).toEqual({});
  });

  it('rejects an unknown kind in per_kind', () => {
    expect(loadErrors(policies({ type: 'max_tool_calls', per_kind: { bash: 1 } }))[0].message).toBe(
      'invalid policy: per_kind.bash: unknown tool kind "bash"',
    );
  });
});

describe('ask_on_tools', () => {
  it('asks on listed kinds and globs only', () => {
    const set = policies({ type: 'ask_on_tools', name: 'net', tools: ['web_fetch', 'mcp:*'] });
    const fetch = decide(set, initialState(), call('web_fetch', { url: 'https://x' }), ctx);
    expect(fetch.verdict).toBe('ask');
    expect(reasonOf(fetch)).toMatch(/web_fetch needs approval/);
    expect(decide(set, initialState(), call('mcp:github/create_issue', {}), ctx).verdict).toBe('ask');
    expect(decide(set, initialState(), sh('ls'), ctx).verdict).toBe('allow');
    expect(decide(set, initialState(), prompt('web_fetch'), ctx).verdict).toBe('allow');
  });

  it('with match, asks only on calls whose command or path matches', () => {
    const set = policies({ type: 'ask_on_tools', tools: ['file_*', 'shell'], match: ['^/etc/', '\\bcurl\\b'] });
    expect(decide(set, initialState(), call('file_read', { path: '/etc/passwd' }), ctx).verdict).toBe('ask');
    expect(decide(set, initialState(), call('file_write', { file_path: 'src/a.ts' }), ctx).verdict).toBe('allow');
    expect(decide(set, initialState(), sh('ls && curl example.com'), ctx).verdict).toBe('ask');
    expect(decide(set, initialState(), sh('ls'), ctx).verdict).toBe('allow');
    expect(decide(set, initialState(), call('search', { query: '/etc/x' }), ctx).verdict).toBe('allow');
  });

  it('with match only, any kind whose input matches asks', () => {
    const set = policies({ type: 'ask_on_tools', match: ['secret\\.txt'] });
    expect(decide(set, initialState(), call('search', { query: 'secret.txt' }), ctx).verdict).toBe('ask');
    expect(decide(set, initialState(), call('search', { query: 'other' }), ctx).verdict).toBe('allow');
  });

  it('rejects an unknown kind and an invalid regex at load', () => {
    expect(loadErrors(policies({ type: 'ask_on_tools', tools: ['bash'] }))[0].message).toMatch(/unknown tool kind/);
    expect(loadErrors(policies({ type: 'ask_on_tools', match: ['(('] }))[0].message).toMatch(/invalid regular/);
  });
});

describe('working_dir', () => {
  const set = () => policies({ type: 'working_dir', name: 'stay' });
  const verdict = (action: PolicyAction, c: DecideContext = ctx) => decide(set(), initialState(), action, c).verdict;

  it.each([
    'cd /etc',
    'cd ..',
    'cd ../ws-other',
    'cd src && cd ../..',
    'cd ~',
    'cd',
    'cd "$HOME"',
    'pushd /tmp',
    'git -C /elsewhere status',
    'git --git-dir=/other/.git log',
    'git --work-tree /other status',
    'git -c a=b -C .. push',
    "bash -c 'cd /etc && ls'",
    'ls; (cd / && rm -rf x)',
    'echo $(cd /root)',
    'sudo cd /etc',
  ])('denies `%s`', (command) => {
    const d = decide(set(), initialState(), sh(command), ctx);
    expect(d.verdict).toBe('deny');
    expect(d.policies).toEqual(['stay']);
  });

  it.each(['cd src', 'cd /work/ws/src && ls', 'cd src/../lib', 'git -C sub status', 'git status', 'ls /etc', 'cd .'])(
    'allows `%s`',
    (command) => expect(verdict(sh(command))).toBe('allow'),
  );

  it('follows cd across commands in one line', () => {
    expect(verdict(sh('cd src && cd ..'))).toBe('allow');
    expect(verdict(sh('cd src && cd ../..'))).toBe('deny');
  });

  it('checks the shell cwd and file paths', () => {
    expect(verdict(sh('ls', { cwd: '/tmp' }))).toBe('deny');
    expect(verdict(sh('cd ..', { cwd: 'src' }))).toBe('allow');
    expect(verdict(call('file_read', { path: '/etc/passwd' }))).toBe('deny');
    expect(verdict(call('file_read', { path: 'src/a.ts' }))).toBe('allow');
    expect(verdict(call('file_write', { file_path: '/work/ws/x.ts' }))).toBe('allow');
    expect(verdict(call('file_write', { file_path: '/work/wsX/x.ts' }))).toBe('deny');
    expect(verdict(call('file_edit', { path: '../x' }))).toBe('deny');
    expect(verdict(call('file_edit', { changes: [{ path: 'a' }, { path: 'b', move_path: '/tmp/b' }] }))).toBe('deny');
    expect(verdict(prompt('cd /etc'))).toBe('allow');
  });

  it('denies when the session has no absolute workspace', () => {
    const d = decide(set(), initialState(), sh('ls'), { ...ctx, session: { id: 's', workspace: 'rel' } });
    expect(d.verdict).toBe('deny');
    expect(reasonOf(d)).toMatch(/no absolute workspace/);
  });
});

describe('expr', () => {
  it('sees action, state, actor and session', () => {
    const set = policies(
      {
        type: 'expr',
        name: 'curl',
        when: 'action.tool == "shell" && action.command.contains("curl")',
        verdict: 'deny',
      },
      { type: 'expr', name: 'busy', when: 'state.toolCalls >= 2', verdict: 'ask', reason: 'many calls' },
      { type: 'expr', name: 'ada', when: 'actor != null && actor.name == "Bob"', verdict: 'deny' },
      { type: 'expr', name: 'ws', when: '!session.workspace.startsWith("/work/")', verdict: 'deny' },
      { type: 'expr', name: 'big', when: 'action.type == "usage" && action.costUsd > 1.0', verdict: 'ask' },
      { type: 'expr', name: 'label', when: '"read_untrusted" in state.labels', verdict: 'deny' },
    );
    expect(loadErrors(set)).toEqual([]);
    const s0 = initialState();
    expect(decide(set, s0, sh('ls'), ctx).verdict).toBe('allow');
    const curl = decide(set, s0, sh('ls | curl -d @- example.com'), ctx);
    expect(curl.verdict).toBe('deny');
    expect(reasonOf(curl)).toMatch(/expression matched: action.tool == "shell"/);
    const busy = applyUpdate(s0, { toolCalls: { shell: 2 } });
    const d = decide(set, busy, prompt(), ctx);
    expect(d.verdict).toBe('ask');
    expect(reasonOf(d)).toBe('many calls');
    expect(decide(set, s0, prompt(), { ...ctx, actor: { id: 'b', name: 'Bob' } }).verdict).toBe('deny');
    expect(decide(set, s0, prompt(), { ...ctx, actor: null }).verdict).toBe('allow');
    expect(decide(set, s0, prompt(), { ...ctx, session: { id: 's', workspace: '/tmp/x' } }).verdict).toBe('deny');
    expect(decide(set, s0, usage(2), ctx).verdict).toBe('ask');
    expect(decide(set, s0, usage(0.5), ctx).verdict).toBe('allow');
    const labelled = applyUpdate(s0, { labels: { read_untrusted: 'web_fetch' } });
    expect(decide(set, labelled, prompt(), ctx).verdict).toBe('deny');
  });

  it('sees a count for every built-in kind, 0 on a fresh session', () => {
    const set = policies({ type: 'expr', when: 'state.toolCallsByKind.shell >= 2', verdict: 'deny' });
    expect(decide(set, initialState(), sh('ls'), ctx).verdict).toBe('allow');
    expect(decide(set, applyUpdate(initialState(), { toolCalls: { shell: 2 } }), sh('ls'), ctx).verdict).toBe('deny');
    const mcp = policies({ type: 'expr', when: '"mcp:a/b" in state.toolCallsByKind', verdict: 'deny' });
    expect(decide(mcp, initialState(), sh('ls'), ctx).verdict).toBe('allow');
    expect(decide(mcp, applyUpdate(initialState(), { toolCalls: { 'mcp:a/b': 1 } }), sh('ls'), ctx).verdict).toBe(
      'deny',
    );
  });

  it('reads tool input and paths', () => {
    const set = policies({
      type: 'expr',
      when: 'action.tool == "file_write" && action.paths.exists(p, p.endsWith(".env"))',
      verdict: 'deny',
    });
    expect(decide(set, initialState(), call('file_write', { path: 'a/.env' }), ctx).verdict).toBe('deny');
    expect(decide(set, initialState(), call('file_write', { path: 'a/b.ts' }), ctx).verdict).toBe('allow');
  });

  it('denies, with the reason, when the expression throws or is not a bool', () => {
    const set = policies(
      { type: 'expr', name: 'nokey', when: 'action.input.missing == 1', verdict: 'ask' },
      { type: 'expr', name: 'notbool', when: 'action.type', verdict: 'ask' },
    );
    const d = decide(set, initialState(), call('search', { query: 'x' }), ctx);
    expect(d.verdict).toBe('deny');
    expect(d.policies).toEqual(['nokey', 'notbool']);
    expect(d.reasons[0].reason).toMatch(/^policy failed while deciding, so the action is denied: .*missing/);
    expect(d.reasons[1].reason).toMatch(/not a bool/);
  });

  it('refuses an unknown variable or a syntax error at load (the policy then denies)', () => {
    const set = policies(
      { type: 'expr', name: 'x', when: 'request.path == "/"', verdict: 'deny' },
      { type: 'expr', name: 'y', when: 'action.tool ==', verdict: 'allow' },
      { type: 'expr', name: 'z', when: '[1].all(v, v > 0) && action.type == "prompt"', verdict: 'allow' },
    );
    const errors = loadErrors(set);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toEqual({ origin: 'test:0', message: expect.stringMatching(/unknown variable "request"/) });
    expect(errors[1].origin).toBe('test:1');
    const d = decide(set, initialState(), prompt(), ctx);
    expect(d.verdict).toBe('deny');
    expect(d.policies).toEqual(['x', 'y']);
    expect(reasonOf(d)).toMatch(/policy "x" \(test:0\) failed to load/);
  });
});
