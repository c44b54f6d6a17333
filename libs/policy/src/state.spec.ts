import type { ItemDraft } from '@yoke/protocol';
import {
  applyUpdate,
  compilePolicies,
  confirmUpdate,
  decide,
  foldItem,
  initialState,
  isPerCallKey,
  rebuildState,
} from './index';
import type { DecideContext, PolicyAction, PolicyState, StateUpdate } from './index';

const ctx: DecideContext = { actor: null, session: { id: 's1', workspace: '/work/ws' } };
let seq = 0;
const at = '2026-11-24T00:00:00.000Z';
const decision = (stateUpdate: unknown, verdict: 'allow' | 'deny' | 'ask' = 'allow'): ItemDraft => ({
  type: 'policy_decision',
  verdict,
  policies: [],
  reasons: [],
  stateUpdate,
  seq: ++seq,
  createdAt: at,
});

const set = compilePolicies([
  {
    level: 'org',
    origin: 'o',
    spec: { type: 'after', name: 'a', if_earlier: { match: 'npm (i|install) ' }, then: { match: 'git push' } },
  },
  { level: 'org', origin: 'o', spec: { type: 'cost_budget', name: 'b', ask_at: [0.5, 1], max: 1000 } },
]);

/** A session as the runner records it: its decisions (with updates when the action proceeded) and other items. */
function session(n: number): { items: ItemDraft[]; live: PolicyState } {
  const items: ItemDraft[] = [];
  let live = initialState();
  const commands = ['ls', 'npm install left-pad', 'git status', 'git push', 'cat package.json'];
  for (let i = 0; i < n; i++) {
    let action: PolicyAction;
    if (i % 4 === 0) action = { type: 'usage', model: 'm', costUsd: 0.013, inputTokens: 100, outputTokens: 20 };
    else if (i % 7 === 0) action = { type: 'prompt', text: `prompt ${i}` };
    else if (i % 3 === 0)
      action = { type: 'tool_call', callId: `c${i}`, tool: 'file_read', nativeTool: 'Read', input: { path: `f${i}` } };
    else
      action = {
        type: 'tool_call',
        callId: `c${i}`,
        tool: 'shell',
        nativeTool: 'Bash',
        input: { command: commands[i % 5] },
      };
    const d = decide(set, live, action, ctx);
    const proceeds = action.type === 'usage' || d.verdict === 'allow';
    items.push(decision(proceeds ? d.stateUpdate : undefined, d.verdict));
    if (proceeds) live = applyUpdate(live, d.stateUpdate);
    if (d.verdict === 'ask' && i % 2 === 0) {
      // A human approves: the runner records the update then (and confirms usage thresholds for good).
      const update = action.type === 'usage' ? confirmUpdate(d.askKeys) : d.stateUpdate;
      items.push(decision(update));
      live = applyUpdate(live, update);
    }
    items.push({ type: 'notice', level: 'info', text: 'other items do not count', seq: ++seq, createdAt: at });
    if (action.type === 'usage') {
      items.push({
        type: 'usage',
        model: 'm',
        inputTokens: 1,
        outputTokens: 1,
        cachedTokens: 0,
        costUsd: 9,
        seq: ++seq,
        createdAt: at,
      });
    }
  }
  return { items, live };
}

describe('state', () => {
  it('folding the item log one item at a time equals rebuildState, and equals the live state', () => {
    const { items, live } = session(500);
    let folded = initialState();
    for (const item of items) folded = foldItem(folded, item);
    expect(folded).toEqual(rebuildState(items));
    expect(folded).toEqual(live);
    expect(folded.spendUsd).toBeCloseTo(125 * 0.013);
    expect(folded.confirmed).toEqual(['cost_budget:org:b:0.5', 'cost_budget:org:b:1']);
    expect(folded.labels['after.org.a'].last).toBe('`npm install left-pad`');
    expect(folded.toolCalls).toBe(folded.toolCallsByKind.shell + folded.toolCallsByKind.file_read);
  });

  it('a rebuilt state decides like the live one (the gate survives a restart)', () => {
    const { items, live } = session(50);
    const rebuilt = rebuildState(items);
    const push: PolicyAction = {
      type: 'tool_call',
      callId: 'x',
      tool: 'shell',
      nativeTool: 'Bash',
      input: { command: 'git push' },
    };
    expect(decide(set, rebuilt, push, ctx)).toEqual(decide(set, live, push, ctx));
    expect(decide(set, rebuilt, push, ctx).verdict).toBe('ask');
  });

  it('stays the same size however long the session (decisions never re-scan history)', () => {
    const small = rebuildState(session(400).items);
    const large = rebuildState(session(4000).items);
    expect(large.toolCalls).toBeGreaterThan(small.toolCalls * 5);
    const size = (s: PolicyState) =>
      JSON.stringify({
        ...s,
        toolCalls: 0,
        prompts: 0,
        spendUsd: 0,
        toolCallsByKind: {},
        labels: Object.keys(s.labels),
      }).length;
    expect(size(large)).toBe(size(small));
    expect(JSON.stringify(large).length).toBeLessThan(1000);
  });

  it('applies only policy_decision items, and skips malformed fields without losing the rest', () => {
    let s = initialState();
    s = foldItem(s, {
      type: 'usage',
      model: 'm',
      inputTokens: 1,
      outputTokens: 1,
      cachedTokens: 0,
      costUsd: 3,
      seq: 1,
      createdAt: at,
    });
    expect(s).toEqual(initialState());
    s = foldItem(s, decision({ spendUsd: -5, prompts: 1, toolCalls: { shell: 1.5 }, labels: 'x', confirm: ['k'] }));
    expect(s).toEqual({ ...initialState(), prompts: 1, confirmed: ['k'] });
    s = foldItem(s, decision({ spendUsd: Number.NaN, prompts: 'two' }));
    s = foldItem(s, decision(null));
    s = foldItem(s, decision('garbage'));
    s = foldItem(s, decision([1, 2]));
    expect(s).toEqual({ ...initialState(), prompts: 1, confirmed: ['k'] });
  });

  it('applyUpdate is pure and keeps the same object when nothing changes', () => {
    const s0 = initialState();
    const s1 = applyUpdate(s0, { toolCalls: { shell: 2, file_read: 1 }, labels: { l: 'a' }, spendUsd: 0.5 });
    expect(s0).toEqual(initialState());
    expect(s1).toMatchObject({ toolCalls: 3, toolCallsByKind: { shell: 2, file_read: 1 }, spendUsd: 0.5 });
    const s2 = applyUpdate(s1, { labels: { l: 'b' }, confirm: ['z', 'a', 'z'] });
    expect(s2.labels).toEqual({ l: { count: 2, last: 'b' } });
    expect(s2.confirmed).toEqual(['a', 'z']);
    expect(s1.labels).toEqual({ l: { count: 1, last: 'a' } });
    expect(applyUpdate(s2, {})).toBe(s2);
    expect(applyUpdate(s2, { confirm: ['a'] })).toBe(s2);
    expect(applyUpdate(s2, { toolCalls: {} })).toBe(s2);
  });

  it('keys named like Object prototype members are counted, or ignored, never corrupting the counts', () => {
    const log = JSON.parse(
      '{"toolCalls":{"constructor":1,"__proto__":2,"shell":1},"labels":{"__proto__":"x","toString":"y"}}',
    ) as StateUpdate;
    const s = foldItem(initialState(), decision(log));
    expect(s.toolCalls).toBe(2);
    expect(s.toolCallsByKind).toEqual({ constructor: 1, shell: 1 });
    expect(Object.getPrototypeOf(s.toolCallsByKind)).toBe(Object.prototype);
    expect(s.labels).toEqual({ toString: { count: 1, last: 'y' } });
    const again = applyUpdate(s, { toolCalls: { constructor: 1 } });
    expect(again.toolCallsByKind.constructor).toBe(2);
  });

  it('confirmUpdate remembers thresholds but never per-call keys', () => {
    const update: StateUpdate = confirmUpdate([
      'cost_budget:org:b:1',
      'ask_on_tools:org:x:@call:c1',
      'cost_budget:org:b:1',
    ]);
    expect(update).toEqual({ confirm: ['cost_budget:org:b:1'] });
    expect(confirmUpdate(['max_tool_calls:org:m:@call:c9'])).toEqual({});
    expect(isPerCallKey('ask_on_tools:session:x:@call:')).toBe(true);
    expect(isPerCallKey('after:org:a:label#1')).toBe(false);
  });
});
