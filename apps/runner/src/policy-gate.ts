import {
  type CompiledPolicySet,
  compilePolicies,
  confirmUpdate,
  type Decision,
  decide,
  type DecideContext,
  grantUpdate,
  loadErrors,
  type PolicyAction,
  type PolicyEntry,
  type PolicyState,
} from '@yoke/policy';
import type { Actor, ItemBody } from '@yoke/protocol';
import type { PermissionDecision, PermissionRequest } from '@yoke/harness';
import { type ApprovalAnswer, type ApprovalAsk, isApproved } from './approval';

/** What the gate needs from its session: items out, humans asked, the turn stopped. */
export interface GateHost {
  emit(body: ItemBody): void;
  requestApproval(ask: ApprovalAsk): Promise<ApprovalAnswer>;
  /** Stops the running turn (a usage report the policies refuse: the model call already happened). */
  stopTurn(reason: string): void;
  readonly policyState: PolicyState;
  readonly workspace: string;
  readonly sessionId: string;
}

export type PromptVerdict = { ok: true } | { ok: false; reason: string };

/**
 * The runner's gate: every prompt, tool call and usage report of a session passes the policy engine before it
 * takes effect. Each decision is recorded as a `policy_decision` item; an ASK parks the action on a human; the
 * state changes a decision carries are applied (through the item, so the state is a fold over the log) only when
 * the action goes ahead — except usage, which always counts (the money is spent).
 */
export class PolicyGate {
  private readonly set: CompiledPolicySet;
  /** A usage threshold waiting for a human: every prompt and tool call waits with it (the session is paused). */
  private pause: Promise<ApprovalAnswer> | null = null;
  private readonly askedKeys = new Set<string>();
  /** Monthly budget holds (the server's `budget_hold` inputs) by budget and month: see `budgetHold`. */
  private readonly holds = new Map<string, BudgetHoldState>();
  /** Budget confirmations being asked: every prompt and tool call waits for them too. */
  private readonly holdWaits = new Set<Promise<ApprovalAnswer>>();

  constructor(
    entries: PolicyEntry[],
    private readonly host: GateHost,
  ) {
    this.set = compilePolicies(entries);
  }

  /** Policies that failed to load (they deny everything until fixed), for a notice at session start. */
  get loadErrors(): { origin: string; message: string }[] {
    return loadErrors(this.set);
  }

  async prompt(text: string, actor: Actor | null): Promise<PromptVerdict> {
    await this.waitForPause();
    const refused = await this.askRefusedHolds();
    if (refused) return { ok: false, reason: refused };
    const d = this.decide({ type: 'prompt', text }, actor);
    const outcome = await this.settle(d, 'prompt', undefined, actor);
    return outcome.behavior === 'allow' ? { ok: true } : { ok: false, reason: outcome.reason };
  }

  async toolCall(req: PermissionRequest, actor: Actor | null): Promise<PermissionDecision> {
    await this.waitForPause();
    const refused = [...this.holds.values()].find((h) => h.state === 'refused');
    if (refused) return { behavior: 'deny', reason: holdRefusal(refused.policy, refused.answer ?? 'deny') };
    const action: PolicyAction = {
      type: 'tool_call',
      callId: req.callId,
      tool: req.tool,
      nativeTool: req.nativeTool,
      input: req.input,
    };
    return this.settle(this.decide(action, actor), 'tool_call', req.callId, actor);
  }

  /** A model usage report: always counted; past a threshold the session pauses, past the cap the turn stops. */
  usage(report: { model: string; costUsd: number; inputTokens: number; outputTokens: number }, actor: Actor | null) {
    const d = this.decide({ type: 'usage', ...report }, actor);
    this.record(d, 'usage', undefined, d.stateUpdate);
    if (d.verdict === 'deny') {
      this.host.stopTurn(reasonText(d));
      return;
    }
    if (d.verdict !== 'ask') return;
    const fresh = d.askKeys.filter((k) => !this.askedKeys.has(k));
    if (fresh.length === 0 && d.askKeys.length > 0) return; // this threshold is already waiting for a human
    for (const k of d.askKeys) this.askedKeys.add(k);
    const asked = this.host.requestApproval({ subject: 'usage', policy: d.policies.join(', '), reason: reasonText(d) });
    this.pause = asked;
    void asked.then((answer) => {
      if (this.pause === asked) this.pause = null;
      for (const k of d.askKeys) this.askedKeys.delete(k);
      if (isApproved(answer)) {
        this.host.emit({
          type: 'policy_decision',
          action: 'usage',
          verdict: 'allow',
          policies: d.policies,
          reasons: ['confirmed by a human'],
          stateUpdate: confirmUpdate(d.askKeys) as never,
        });
      } else {
        this.host.stopTurn(`${reasonText(d)} — not confirmed (${answer})`);
      }
    });
  }

  /**
   * A monthly budget reached its cap (docs/governance.md, "Budgets"): the session pauses — every prompt and tool call
   * waits — while a human is asked to confirm going on (subject `usage`, the budget's policy name). Confirmed, it goes
   * on and is not asked again for that budget and month in this session; denied or unanswered, the running turn
   * stops and the session's next prompt asks again. A hold already asked, or confirmed, is not asked twice.
   */
  budgetHold(hold: { key: string; policy: string; reason: string }): void {
    const known = this.holds.get(hold.key);
    if (known && known.state !== 'refused') return;
    void this.askHold(hold.key, hold.policy, hold.reason, true);
  }

  private askHold(key: string, policy: string, reason: string, stopTurn: boolean): Promise<ApprovalAnswer> {
    const asked = this.host.requestApproval({ subject: 'usage', policy, reason });
    this.holds.set(key, { policy, reason, state: 'asking' });
    this.holdWaits.add(asked);
    void asked.then((answer) => {
      this.holdWaits.delete(asked);
      this.holds.set(key, { policy, reason, state: isApproved(answer) ? 'confirmed' : 'refused', answer });
      if (!isApproved(answer) && stopTurn) this.host.stopTurn(holdRefusal(policy, answer));
    });
    return asked;
  }

  /** Before a prompt: each budget hold refused earlier is asked again; the first refusal again refuses the prompt. */
  private async askRefusedHolds(): Promise<string | null> {
    for (const [key, h] of this.holds) {
      if (h.state !== 'refused') continue;
      const answer = await this.askHold(key, h.policy, h.reason, false);
      if (!isApproved(answer)) return holdRefusal(h.policy, answer);
    }
    return null;
  }

  private async waitForPause(): Promise<void> {
    while (this.pause || this.holdWaits.size) await (this.pause ?? [...this.holdWaits][0]);
  }

  private decide(action: PolicyAction, actor: Actor | null): Decision {
    const ctx: DecideContext = { actor, session: { id: this.host.sessionId, workspace: this.host.workspace } };
    return decide(this.set, this.host.policyState, action, ctx);
  }

  private async settle(
    d: Decision,
    action: 'prompt' | 'tool_call',
    callId: string | undefined,
    actor: Actor | null,
  ): Promise<PermissionDecision> {
    if (d.verdict === 'allow') {
      this.record(d, action, callId, d.stateUpdate);
      return { behavior: 'allow' };
    }
    this.record(d, action, callId, undefined);
    if (d.verdict === 'deny') return { behavior: 'deny', reason: `denied by policy: ${reasonText(d)}` };
    const answer = await this.host.requestApproval({
      subject: action,
      ...(callId ? { callId } : {}),
      policy: d.policies.join(', '),
      reason: reasonText(d),
      canApproveForSession: d.sessionGrant !== null,
    });
    if (!isApproved(answer)) {
      const why = answer === 'timeout' ? 'nobody answered in time' : answer === 'cancelled' ? 'cancelled' : 'denied';
      return { behavior: 'deny', reason: `${reasonText(d)} — approval ${why}` };
    }
    // Approved: the action goes ahead, so its state change applies now. Each such action asks again next time, unless
    // it was approved for the rest of the session (and offered so): then the grant joins the state, through this item,
    // so it survives a restart and the same action is allowed without asking (policies.md, "Always allow"). A
    // session-wide answer to a request that did not offer it approves this action only.
    const grant = answer === 'approve_session' ? d.sessionGrant : null;
    const asked = actor ? ` (asked during ${actor.name}'s turn)` : '';
    this.host.emit({
      type: 'policy_decision',
      action,
      ...(callId ? { callId } : {}),
      verdict: 'allow',
      policies: d.policies,
      reasons: [grant ? `approved for the rest of this session${asked}` : `approved${asked}`],
      stateUpdate: (grant ? { ...d.stateUpdate, ...grantUpdate(grant) } : d.stateUpdate) as never,
    });
    return { behavior: 'allow' };
  }

  private record(d: Decision, action: 'prompt' | 'tool_call' | 'usage', callId: string | undefined, update: unknown) {
    this.host.emit({
      type: 'policy_decision',
      action,
      ...(callId ? { callId } : {}),
      verdict: d.verdict,
      policies: d.policies,
      reasons: d.reasons.map((r) => `${r.policy}: ${r.reason}`),
      ...(update !== undefined ? { stateUpdate: update as never } : {}),
    });
  }
}

type BudgetHoldState = {
  policy: string;
  reason: string;
  state: 'asking' | 'confirmed' | 'refused';
  answer?: ApprovalAnswer;
};

function holdRefusal(policy: string, answer: ApprovalAnswer): string {
  return `monthly budget ${policy} not confirmed (${answer})`;
}

function reasonText(d: Decision): string {
  const relevant = d.reasons.filter((r) => r.verdict === d.verdict);
  return (relevant.length ? relevant : d.reasons).map((r) => `${r.policy}: ${r.reason}`).join('; ') || d.verdict;
}
