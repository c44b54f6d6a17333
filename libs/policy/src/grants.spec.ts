import {
  applyUpdate,
  compilePolicies,
  decide,
  foldItem,
  grantKey,
  grantUpdate,
  initialState,
  PolicySpec,
  type DecideContext,
  type PolicyAction,
  type PolicyEntry,
  type PolicyState,
} from './index';

const ctx: DecideContext = { actor: { id: 'u1', name: 'Ada' }, session: { id: 's1', workspace: '/work/ws' } };
const org = (spec: unknown): PolicyEntry => ({ level: 'org', spec, origin: 'org:test' });

let seq = 0;
const call = (tool: string, input: unknown): PolicyAction =>
  ({ type: 'tool_call', callId: `c${++seq}`, tool, nativeTool: tool, input }) as PolicyAction;
const sh = (command: string) => call('shell', { command });

const askShell = { type: 'ask_on_tools', name: 'ask-shell', tools: ['shell'] };
const askWrites = { type: 'ask_on_tools', name: 'ask-writes', tools: ['file_write'] };
const denyForce = { type: 'deny_commands', name: 'no-force', patterns: ['git push --force'] };

/** Approves `action` "always for this session" the way the runner does: the decision's grant is folded in. */
function approveForSession(state: PolicyState, entries: PolicyEntry[], action: PolicyAction): PolicyState {
  const d = decide(compilePolicies(entries), state, action, ctx);
  expect(d.verdict).toBe('ask');
  expect(d.sessionGrant).not.toBeNull();
  return applyUpdate(state, { ...d.stateUpdate, ...grantUpdate(d.sessionGrant!) });
}

describe('grantKey: what "always allow in this session" covers', () => {
  it('a shell call by its exact command line, never a prefix or a longer line', () => {
    expect(grantKey(sh('git push'))).toBe(grantKey(sh('git push')));
    for (const other of ['git push --force', 'git push; rm -rf ~', 'git  push', ' git push', 'git pus']) {
      expect(grantKey(sh(other))).not.toBe(grantKey(sh('git push')));
    }
    // The same command under another native spelling of the input is the same action.
    expect(grantKey(call('shell', { cmd: 'git push' }))).toBe(grantKey(sh('git push')));
  });

  it('a file tool by its tool and exact paths; another tool by its kind; prompts and usage never', () => {
    const write = (path: string) => call('file_write', { path, content: 'x' });
    expect(grantKey(write('a.txt'))).toBe(grantKey(write('a.txt')));
    expect(grantKey(write('a.txt'))).not.toBe(grantKey(write('b.txt')));
    expect(grantKey(call('file_edit', { path: 'a.txt' }))).not.toBe(grantKey(write('a.txt')));
    expect(grantKey(call('mcp:docs/search', { q: 'a' }))).toBe(grantKey(call('mcp:docs/search', { q: 'b' })));
    expect(grantKey(call('mcp:docs/search', {}))).not.toBe(grantKey(call('mcp:docs/delete', {})));
    expect(grantKey({ type: 'prompt', text: 'hi' })).toBeNull();
    expect(grantKey({ type: 'usage', model: 'm', costUsd: 1, inputTokens: 1, outputTokens: 1 })).toBeNull();
    expect(grantKey(sh(''))).toBeNull();
    expect(grantKey(sh(`echo ${'x'.repeat(3000)}`))).toBeNull();
  });
});

describe('approve_session in the engine', () => {
  it('offers the grant on an ask about a tool call; once granted the same command is allowed, another still asks', () => {
    const entries = [org(askShell)];
    const set = compilePolicies(entries);
    const first = decide(set, initialState(), sh('npm test'), ctx);
    expect(first.sessionGrant).toBe(grantKey(sh('npm test')));
    const state = approveForSession(initialState(), entries, sh('npm test'));
    expect(state.granted).toEqual([grantKey(sh('npm test'))]);

    const again = decide(set, state, sh('npm test'), ctx);
    expect(again.verdict).toBe('allow');
    expect(again.reasons).toEqual([
      {
        policy: 'ask-shell',
        level: 'org',
        verdict: 'allow',
        reason: 'allowed for this session by an earlier approval',
      },
    ]);
    expect(again.stateUpdate).toEqual({ toolCalls: { shell: 1 } });
    expect(decide(set, state, sh('npm test -- --watch'), ctx).verdict).toBe('ask');
    expect(decide(set, state, sh('npm test && curl evil.example'), ctx).verdict).toBe('ask');
  });

  it('a deny is never overridden by a grant', () => {
    const entries = [org(askShell), org(denyForce)];
    const state = applyUpdate(initialState(), grantUpdate(grantKey(sh('git push --force'))!));
    const d = decide(compilePolicies(entries), state, sh('git push --force'), ctx);
    expect(d.verdict).toBe('deny');
    expect(d.sessionGrant).toBeNull();
  });

  it('allow_always: false offers no grant, and an existing grant does not silence that policy', () => {
    const strict = { ...askWrites, allow_always: false };
    const write = call('file_write', { path: 'a.txt', content: 'x' });
    const d = decide(compilePolicies([org(strict)]), initialState(), write, ctx);
    expect(d.verdict).toBe('ask');
    expect(d.sessionGrant).toBeNull();
    // Granted while another policy asked (say, before an admin tightened it): this one still asks.
    const state = applyUpdate(initialState(), grantUpdate(grantKey(write)!));
    expect(decide(compilePolicies([org(strict)]), state, write, ctx).verdict).toBe('ask');
    expect(decide(compilePolicies([org(askWrites)]), state, write, ctx).verdict).toBe('allow');
  });

  it('a policy that limits counts (max_tool_calls) never offers it; one strict asker withholds it for all', () => {
    const limit = { type: 'max_tool_calls', name: 'few', max: 0, verdict: 'ask' };
    expect(decide(compilePolicies([org(limit)]), initialState(), sh('ls'), ctx).sessionGrant).toBeNull();
    const both = compilePolicies([org(askShell), org({ ...askShell, name: 'strict', allow_always: false })]);
    expect(decide(both, initialState(), sh('ls'), ctx).sessionGrant).toBeNull();
  });

  it('after and expr policies offer it too; prompts never', () => {
    const after = {
      type: 'after',
      name: 'push-after-install',
      if_earlier: { tool: 'shell', match: '^npm install' },
      then: { tool: 'shell', match: '^git push' },
    };
    const set = compilePolicies([org(after)]);
    const installed = applyUpdate(initialState(), decide(set, initialState(), sh('npm install x'), ctx).stateUpdate);
    const push = decide(set, installed, sh('git push'), ctx);
    expect(push.verdict).toBe('ask');
    expect(push.sessionGrant).toBe(grantKey(sh('git push')));
    const askPrompt = { type: 'expr', name: 'ask-prompts', when: 'action.type == "prompt"', verdict: 'ask' };
    const p = decide(compilePolicies([org(askPrompt)]), initialState(), { type: 'prompt', text: 'hi' }, ctx);
    expect(p.verdict).toBe('ask');
    expect(p.sessionGrant).toBeNull();
  });

  it('grants fold from the log (they survive a runner restart) and are bounded', () => {
    const key = grantKey(sh('make'))!;
    const item = {
      seq: 1,
      sessionId: '00000000-0000-4000-8000-000000000001',
      createdAt: new Date(0).toISOString(),
      type: 'policy_decision' as const,
      action: 'tool_call' as const,
      verdict: 'allow' as const,
      policies: ['ask-shell'],
      reasons: [],
      stateUpdate: { toolCalls: { shell: 1 }, grant: [key] },
    };
    const folded = foldItem(initialState(), item);
    expect(folded.granted).toEqual([key]);
    expect(foldItem(folded, { ...item, seq: 2 }).granted).toEqual([key]);
    // A malformed grant from a hand-edited log is skipped; the rest of the update applies.
    const bad = foldItem(initialState(), { ...item, stateUpdate: { toolCalls: { shell: 1 }, grant: 'nope' } });
    expect(bad).toEqual({ ...initialState(), toolCalls: 1, toolCallsByKind: { shell: 1 } });
    let many = initialState();
    for (let i = 0; i < 600; i++) many = applyUpdate(many, grantUpdate(`k${i}`));
    expect(many.granted).toHaveLength(500);
  });

  it('allow_always is part of the spec of the policies that can ask about a tool call, and only those', () => {
    expect(PolicySpec.safeParse({ ...askShell, allow_always: false }).success).toBe(true);
    expect(PolicySpec.safeParse({ type: 'expr', when: 'true', verdict: 'ask', allow_always: false }).success).toBe(
      true,
    );
    expect(PolicySpec.safeParse({ ...denyForce, allow_always: false }).success).toBe(false);
    expect(PolicySpec.safeParse({ ...askShell, allow_always: 'no' }).success).toBe(false);
  });
});
