import {
  applyUpdate,
  type CompiledPolicySet,
  confirmUpdate,
  decide,
  initialState,
  type PolicyAction,
} from '@yoke/policy';
import { type DryRunDecision, type DryRunSession, type Item, MICROS_PER_USD, type Verdict } from '@yoke/protocol';

export interface ReplayTarget {
  sessionId: string;
  title: string;
  workspace: string;
  ownerId: string;
}

/**
 * Replays a recorded session through a policy set: every prompt, tool call and usage report, in order, as the
 * runner's gate would have seen them. An ASK is assumed approved so the replay goes on (its reason is reported);
 * a DENY is reported and the action's effect on the state is not applied. Pure: no I/O.
 */
export function replaySession(set: CompiledPolicySet, target: ReplayTarget, items: Item[]): DryRunSession {
  const recorded = recordedVerdicts(items);
  // As on the runner: where the egress proxy metered the session, its figures are what cost policies count.
  const metered = items.some((i) => i.type === 'metered_usage');
  let state = initialState();
  const counts = { allow: 0, ask: 0, deny: 0 };
  const decisions: DryRunDecision[] = [];
  let actions = 0;
  for (const item of items) {
    const action = actionOf(item, metered);
    if (!action) continue;
    actions++;
    const actor = item.actor ?? null;
    const d = decide(set, state, action, {
      actor,
      session: { id: target.sessionId, workspace: target.workspace, ownerId: target.ownerId },
    });
    counts[d.verdict]++;
    if (action.type === 'usage' || d.verdict === 'allow') state = applyUpdate(state, d.stateUpdate);
    else if (d.verdict === 'ask') state = applyUpdate(applyUpdate(state, d.stateUpdate), confirmUpdate(d.askKeys));
    const was = action.type === 'tool_call' ? (recorded.get(action.callId) ?? null) : null;
    if (d.verdict === 'allow' && (was === null || was === 'allow')) continue;
    decisions.push({
      seq: item.seq,
      action: action.type,
      summary: summarize(action),
      verdict: d.verdict,
      recorded: was,
      policies: d.policies,
      reasons: d.reasons.map((r) => `${r.policy}: ${r.reason}`),
    });
  }
  return { sessionId: target.sessionId, title: target.title, actions, counts, decisions };
}

function actionOf(item: Item, metered: boolean): PolicyAction | null {
  switch (item.type) {
    case 'user_message':
      return {
        type: 'prompt',
        text: item.content.map((c) => (c.type === 'text' ? c.text : (c.content ?? ''))).join('\n'),
      };
    case 'tool_call':
      return {
        type: 'tool_call',
        callId: item.callId,
        tool: item.tool,
        nativeTool: item.nativeTool,
        input: item.input,
      };
    case 'usage':
      if (metered) return null;
      return {
        type: 'usage',
        model: item.model,
        costUsd: item.costUsd,
        inputTokens: item.inputTokens,
        outputTokens: item.outputTokens,
      };
    case 'metered_usage':
      return {
        type: 'usage',
        model: item.model,
        costUsd: item.costMicros / MICROS_PER_USD,
        inputTokens: item.inputTokens + item.cacheReadTokens + item.cacheWriteTokens,
        outputTokens: item.outputTokens,
      };
    default:
      return null;
  }
}

/** The first verdict the session recorded for each tool call. */
function recordedVerdicts(items: Item[]): Map<string, Verdict> {
  const out = new Map<string, Verdict>();
  for (const item of items) {
    if (item.type === 'policy_decision' && item.callId && !out.has(item.callId)) out.set(item.callId, item.verdict);
  }
  return out;
}

function summarize(action: PolicyAction): string {
  const clip = (s: string) => (s.length > 200 ? `${s.slice(0, 199)}…` : s);
  switch (action.type) {
    case 'prompt':
      return clip(`prompt: ${action.text}`);
    case 'usage':
      return `usage: ${action.model} $${action.costUsd.toFixed(4)}`;
    case 'tool_call': {
      const input = action.input as { command?: unknown; path?: unknown } | null;
      const detail =
        typeof input?.command === 'string'
          ? input.command
          : typeof input?.path === 'string'
            ? input.path
            : JSON.stringify(action.input ?? null);
      return clip(`${action.tool}: ${detail}`);
    }
  }
}
