import { mkdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  type Actor,
  APPROVE_SESSION,
  type ContentPart,
  type Delta,
  type InboxEntry,
  type ItemBody,
  type ItemDraft,
  MICROS_PER_USD,
  parseItemDraft,
  type SessionStartSpec,
} from '@yoke/protocol';
import {
  type DelegateRequest,
  type DelegateResult,
  type HarnessAdapter,
  missingModelKey,
  type ModelKeyVar,
  type PermissionHook,
  type ProviderEnv,
} from '@yoke/harness';
import { foldItem, initialState, policyStack, type PolicyState, traceContentAllowed } from '@yoke/policy';
import type { ApprovalAnswer, ApprovalAsk } from './approval';
import { Outbox } from './outbox';
import { PartialAnswers } from './partial-answers';
import { PolicyGate } from './policy-gate';
import type { SessionSandboxFactory } from './sandbox';
import { type HarnessChange, SessionHarness } from './session-harness';
import { type SessionState, SessionStateStore } from './session-state';
import { SessionTrace, type SessionTraceInfo } from './session-trace';
import { TurnCost } from './turn-cost';
import { TurnSteering } from './turn-steering';

export interface SupervisorDeps {
  dir: string;
  adapterFor: (harness: string) => HarnessAdapter;
  provider: ProviderEnv;
  permission: PermissionHook;
  /** Called after items were made durable: the connection sends them. */
  onItems: (sessionId: string) => void;
  onDelta: (sessionId: string, delta: Delta) => void;
  log: Logger;
  /** Builds the session's Omnibox sandbox (launcher + egress proxy); omitted: harnesses run unsandboxed (tests). */
  sandbox?: SessionSandboxFactory;
  /** How long an approval may wait for a human before it is refused. */
  approvalTimeoutMs?: number;
  /** Runs a `delegate` call of session `parentId` as a child session; absent: delegation is unavailable. */
  delegate?: (parentId: string, request: DelegateRequest, traceparent?: string) => Promise<DelegateResult>;
  /** Each turn's end, with its last agent message (or why it failed): a waiting parent hears its child's answer. */
  onTurnEnd?: (sessionId: string, result: TurnResult) => void;
  /** The session's running turn was cancelled or stopped (by `actor`, or by a policy). */
  onCancel?: (sessionId: string, actor: Actor | undefined) => void;
  /**
   * Why the workspace may not be used (null: it may), asked again before each harness start: the directory may have
   * changed since the session was created, or the session may predate the rules.
   */
  checkWorkspace?: (workspace: string) => string | null;
  /** What fixes a missing model key on this runner, appended to the turn's error. */
  missingKeyFix?: (name: ModelKeyVar) => string;
}

/** How a turn ended: its final answer (the last agent message), or why it failed. */
export type TurnResult = { ok: true; text: string } | { ok: false; error: string };

const DEFAULT_APPROVAL_TIMEOUT_MS = 15 * 60_000;

/**
 * One session on this runner: applies its inbox inputs exactly once, runs turns one at a time on its harness, and
 * turns everything into seq-stamped items in its outbox.
 */
export class SessionSupervisor {
  readonly outbox: Outbox;
  /** The session's harness process and its sandbox. */
  private readonly harness: SessionHarness;
  private running: Promise<void> | null = null;
  private closed = false;
  private readonly waiting = new Map<string, { resolve: (a: ApprovalAnswer) => void; timer: NodeJS.Timeout }>();
  private readonly gate: PolicyGate;
  private readonly trace: SessionTrace;
  /** What the trace says of the session; its harness and model follow a switch. */
  private readonly traceInfo: SessionTraceInfo;
  /** Why the policies stopped the running turn, if they did. */
  private stoppedBecause: string | null = null;
  /** The running turn's latest agent message. */
  private lastAnswer = '';
  /** Agent text the running turn streamed that no message carries yet: kept if the turn fails. */
  private readonly partialAnswers = new PartialAnswers();
  /** The running turn's cost as the harness reported it and as the egress proxy metered it (micro-dollars). */
  private readonly turnCost = new TurnCost();
  /** Messages that arrive while a turn runs join it where the harness can take them. */
  private readonly steering: TurnSteering;
  /** How the latest turn of this process's lifetime ended; null while none has. */
  lastTurnResult: TurnResult | null = null;

  private constructor(
    readonly sessionId: string,
    private readonly store: SessionStateStore,
    private readonly deps: SupervisorDeps,
  ) {
    this.outbox = new Outbox(deps.dir);
    const { spec, workspace } = store.state;
    this.traceInfo = {
      sessionId: spec.sessionId,
      ...(spec.orgId ? { orgId: spec.orgId } : {}),
      agent: spec.agent.name,
      harness: spec.harness,
      model: spec.model ?? spec.agent.model ?? null,
      content: traceContentAllowed(policyStack(spec)),
    };
    this.trace = new SessionTrace(this.traceInfo);
    this.steering = new TurnSteering({
      store,
      harness: () => this.harness.current,
      checkPrompt: (content, actor) => this.gate.prompt(promptText(content), actor),
      record: (body, turnId, actor) => this.emit(body, turnId, actor),
      settled: () => this.drain(),
    });
    this.gate = new PolicyGate(policyStack(spec), {
      sessionId: spec.sessionId,
      workspace,
      get policyState(): PolicyState {
        return store.state.policyState ?? initialState();
      },
      emit: (body) => {
        const open = this.store.state.openTurn;
        this.emit(body, open?.turnId, open?.actor);
      },
      requestApproval: (ask) => this.requestApproval(ask),
      stopTurn: (reason) => {
        if (!this.store.state.openTurn) return;
        this.stoppedBecause = reason;
        this.harness.cancel();
        this.deps.onCancel?.(this.sessionId, undefined);
      },
    });
    this.harness = new SessionHarness(this.sessionId, store, deps, {
      gate: this.gate,
      trace: this.trace,
      traceInfo: this.traceInfo,
      refusal: () => this.refusal,
      onEvent: (event, turnId, actor) => {
        if (event.kind === 'delta') {
          this.partialAnswers.delta(event.delta);
          return this.deps.onDelta(this.sessionId, event.delta);
        }
        const open = this.store.state.openTurn;
        this.partialAnswers.item(event.item);
        this.emit(event.item, open?.turnId ?? turnId, open?.actor ?? actor);
        if (event.item.type === 'agent_message') this.lastAnswer = event.item.text;
        if (event.item.type === 'usage') this.reported(event.item, open?.actor ?? actor);
      },
      onSandboxItem: (body, turnId, actor) => {
        const open = this.store.state.openTurn;
        this.emit(body, open?.turnId ?? turnId, open?.actor ?? actor);
        if (body.type === 'metered_usage') this.metered(body, open?.actor ?? actor);
      },
    });
  }

  static create(spec: SessionStartSpec, workspace: string, deps: SupervisorDeps): SessionSupervisor {
    mkdirSync(workspace, { recursive: true });
    return SessionSupervisor.init({ spec, workspace, applied: [], queued: [], openTurn: null }, deps);
  }

  /**
   * A session whose requested workspace the runner refused: it exists (its inputs are acknowledged, its items say
   * why) but never starts a harness, and no other directory stands in for the one it asked for.
   */
  static createRefused(spec: SessionStartSpec, refusal: string, deps: SupervisorDeps): SessionSupervisor {
    const state: SessionState = {
      spec,
      workspace: spec.workspace ?? '',
      workspaceRefused: refusal,
      applied: [],
      queued: [],
      openTurn: null,
    };
    const sup = SessionSupervisor.init(state, deps);
    sup.emit({ type: 'notice', level: 'error', text: `this session cannot run: ${refusal}` }, undefined, undefined);
    return sup;
  }

  private static init(state: SessionState, deps: SupervisorDeps): SessionSupervisor {
    const { spec } = state;
    const store = new SessionStateStore(deps.dir, state);
    store.update(() => undefined);
    const sup = new SessionSupervisor(spec.sessionId, store, deps);
    for (const e of sup.gate.loadErrors) {
      sup.emit(
        {
          type: 'notice',
          level: 'error',
          text: `policy ${e.origin} failed to load and denies every action: ${e.message}`,
        },
        undefined,
        undefined,
      );
    }
    return sup;
  }

  /** Reloads a session after a restart. A turn that was in flight has lost its harness: it ends as failed. */
  static resume(sessionId: string, deps: SupervisorDeps): SessionSupervisor | null {
    const store = SessionStateStore.load(deps.dir);
    if (!store) return null;
    const sup = new SessionSupervisor(sessionId, store, deps);
    sup.catchUpPolicyState();
    const open = store.state.openTurn;
    if (open) {
      sup.emit(
        { type: 'turn_failed', error: 'the runner stopped during this turn; it was restarted and the turn was lost' },
        open.turnId,
        open.actor,
      );
      store.update((s) => (s.openTurn = null));
    }
    for (const approvalId of store.state.pendingApprovals ?? []) {
      sup.emit({ type: 'approval_decision', approvalId, decision: 'expired' }, open?.turnId, undefined);
    }
    if (store.state.pendingApprovals?.length) store.update((s) => (s.pendingApprovals = []));
    sup.drain();
    return sup;
  }

  /** Items written but not folded before a crash (the state file is written right after the item) fold now. */
  private catchUpPolicyState(): void {
    const from = this.store.state.policySeq ?? 0;
    for (const item of this.outbox.pending()) if (item.seq > from) this.foldPolicy(item);
  }

  private foldPolicy(item: ItemDraft): void {
    if (item.type !== 'policy_decision' || item.stateUpdate === undefined) return;
    const next = foldItem(this.store.state.policyState ?? initialState(), item);
    // Off the event loop (a decision sits between a tool call and its run): a fold lost to a crash is caught up
    // from the outbox on restart (`catchUpPolicyState`).
    void this.store
      .stage((s) => {
        s.policyState = next;
        s.policySeq = item.seq;
      })
      .catch((err: unknown) => this.deps.log.warn({ err, sessionId: this.sessionId }, 'policy state not written'));
  }

  get state(): Readonly<SessionState> {
    return this.store.state;
  }

  /** The directory this session works in; null when its requested workspace was refused. */
  get workspace(): string | null {
    return this.refusal ? null : this.store.state.workspace;
  }

  private get refusal(): string | undefined {
    return this.store.state.workspaceRefused;
  }

  /** A notice in this session's timeline, outside any turn (e.g. how a fork's workspace was made). */
  notify(level: 'info' | 'warning', text: string): void {
    this.emit({ type: 'notice', level, text }, undefined, undefined);
  }

  /** Resolves once what `apply` changed is on disk (the runner acknowledges an input only then). */
  durable(): Promise<void> {
    return this.store.durable();
  }

  /** Applies an input once. Returns false when this id was applied before (a redelivery). */
  apply(entry: InboxEntry): boolean {
    if (this.store.hasApplied(entry.id)) return false;
    const input = entry.input;
    switch (input.kind) {
      case 'start':
        this.store.update((s) => s.applied.push(entry.id));
        break;
      case 'message':
        // Written off the event loop, with the turn it may start (one write): the runner acknowledges the input
        // once it is durable (`durable`), and the turn's first item waits for it too.
        void this.store
          .stage((s) => {
            s.applied.push(entry.id);
            s.queued.push(entry);
          })
          .catch(() => undefined);
        if (!this.steering.offer(entry)) this.drain();
        break;
      case 'cancel':
        this.store.update((s) => s.applied.push(entry.id));
        this.cancelTurn(input.actor);
        break;
      case 'approval':
        this.store.update((s) => s.applied.push(entry.id));
        this.settleApproval(input.approvalId, input.decision, input.actor);
        break;
      case 'budget_hold':
        // A monthly budget reached its cap: the session pauses until a human confirms (PolicyGate.budgetHold).
        this.store.update((s) => s.applied.push(entry.id));
        this.gate.budgetHold({ key: `${input.budgetId}:${input.month}`, policy: input.policy, reason: input.reason });
        break;
    }
    return true;
  }

  /** Stops the running turn (and its pending approvals), if any; the sub-agents it is waiting for stop too. */
  cancelTurn(actor: Actor | undefined): void {
    for (const id of [...this.waiting.keys()]) this.settleApproval(id, 'cancelled', actor);
    if (!this.store.state.openTurn) return;
    this.harness.cancel();
    this.deps.onCancel?.(this.sessionId, actor);
  }

  /**
   * Parks an action until a human answers (any client; the first decision wins on the server) or the timeout
   * refuses it. The request and the decision, with who decided, are both items.
   */
  requestApproval(ask: ApprovalAsk): Promise<ApprovalAnswer> {
    const approvalId = `ap_${randomUUID()}`;
    const open = this.store.state.openTurn;
    this.store.update((s) => (s.pendingApprovals = [...(s.pendingApprovals ?? []), approvalId]));
    this.emit(
      {
        type: 'approval_request',
        approvalId,
        subject: ask.subject,
        ...(ask.callId ? { callId: ask.callId } : {}),
        policy: ask.policy,
        reason: ask.reason,
        options: ask.canApproveForSession ? ['approve', APPROVE_SESSION, 'deny'] : ['approve', 'deny'],
        canApproveForSession: ask.canApproveForSession === true,
      },
      open?.turnId,
      open?.actor,
    );
    return new Promise<ApprovalAnswer>((resolve) => {
      const timer = setTimeout(
        () => this.settleApproval(approvalId, 'timeout', undefined),
        this.deps.approvalTimeoutMs ?? DEFAULT_APPROVAL_TIMEOUT_MS,
      );
      this.waiting.set(approvalId, { resolve, timer });
    });
  }

  private settleApproval(approvalId: string, decision: ApprovalAnswer, actor: Actor | undefined): void {
    const waiter = this.waiting.get(approvalId);
    if (!waiter) return; // already settled (timed out, or a redelivered decision)
    clearTimeout(waiter.timer);
    this.waiting.delete(approvalId);
    this.store.update((s) => (s.pendingApprovals = (s.pendingApprovals ?? []).filter((id) => id !== approvalId)));
    this.emit({ type: 'approval_decision', approvalId, decision }, this.store.state.openTurn?.turnId, actor);
    waiter.resolve(decision);
  }

  /** The running turn's trace context (sent with the session's items), if tracing is on. */
  get traceparent(): string | undefined {
    return this.trace.traceparent;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.trace.close();
    for (const id of [...this.waiting.keys()]) this.settleApproval(id, 'timeout', undefined);
    await this.harness.close();
    await this.store.durable().catch(() => undefined); // a reopened session reads what this one staged
  }

  /** Runs queued messages one turn at a time. */
  private drain(): void {
    if (this.running || this.closed) return;
    const next = this.store.state.queued[0];
    if (!next || next.input.kind !== 'message' || this.steering.holds(next.id)) return;
    const { content, actor, traceparent, harness, model } = next.input;
    const change = harness !== undefined || model !== undefined ? { harness, model } : undefined;
    this.running = this.runTurn(content, actor, next.id, traceparent, change).finally(() => {
      this.running = null;
      this.drain();
    });
  }

  private async runTurn(
    content: ContentPart[],
    actor: Actor,
    inboxId: string,
    traceparent?: string,
    change?: HarnessChange,
  ): Promise<void> {
    const turnId = randomUUID().slice(0, 8);
    const switched = change ? await this.harness.switch(change) : null;
    this.trace.turnStarted(turnId, actor, traceparent);
    // The user's message is durable (and the input leaves the queue) before the harness sees it, and before the turn's
    // first item: a restart finds the turn open (and ends it as failed), never the message queued for a second turn.
    await this.store.stage((s) => {
      s.queued = s.queued.filter((q) => q.id !== inboxId);
      s.openTurn = { turnId, actor };
    });
    this.emit({ type: 'turn_started' }, turnId, actor);
    if (switched) this.emit({ type: 'notice', level: 'info', text: `${switched} by ${actor.name}` }, turnId, actor);
    this.emit({ type: 'user_message', content }, turnId, actor);
    this.stoppedBecause = null;
    this.lastAnswer = '';
    this.partialAnswers.begin(turnId);
    this.turnCost.settle();
    let terminal: ItemBody;
    try {
      const verdict = this.steering.takeVerdict(inboxId) ?? (await this.gate.prompt(promptText(content), actor));
      if (!verdict.ok) throw new Error(verdict.reason);
      const harness = await this.harness.ensure(turnId, actor);
      const outcome = await harness.runTurn({ turnId, content, actor });
      terminal = this.stoppedBecause
        ? { type: 'turn_failed', error: `stopped by policy: ${this.stoppedBecause}` }
        : { type: 'turn_completed', stopReason: outcome.stopReason };
    } catch (err) {
      terminal = { type: 'turn_failed', error: withKeyFix(errorText(err), this.deps.missingKeyFix) };
      this.deps.log.warn({ err, sessionId: this.sessionId, turnId }, 'turn failed');
    }
    await this.steering.flush(); // a message the harness took before the turn ended is an item of that turn
    // What a viewer read of an unfinished message stays, marked partial, before the failure that cut it off.
    const partials = this.partialAnswers.take();
    if (terminal.type === 'turn_failed') for (const message of partials) this.emit(message, turnId, actor);
    this.compareTurnCost(turnId, actor);
    this.emit(terminal, turnId, actor);
    this.store.update((s) => (s.openTurn = null));
    this.lastTurnResult =
      terminal.type === 'turn_completed'
        ? terminal.stopReason === 'end_turn'
          ? { ok: true, text: this.lastAnswer }
          : {
              ok: false,
              error: `the turn ended early (${terminal.stopReason})${this.lastAnswer ? `: ${this.lastAnswer}` : ''}`,
            }
        : { ok: false, error: terminal.type === 'turn_failed' ? terminal.error : 'the turn failed' };
    this.deps.onTurnEnd?.(this.sessionId, this.lastTurnResult);
  }

  /**
   * A usage report from the harness. Where the proxy meters the session, cost policies count the metered figure
   * and this report is only compared with it at the end of the turn; unmetered, it is what the policies count.
   */
  private reported(item: { model: string; costUsd: number; inputTokens: number; outputTokens: number }, actor: Actor) {
    this.turnCost.reported(item.costUsd);
    if (!this.harness.metered) this.gate.usage(item, actor);
  }

  /**
   * A model call metered by the egress proxy: what cost policies count in a sandboxed session (at the org's prices
   * where it has its own). Compared with the harness's report at list prices, which are what harnesses know.
   */
  private metered(item: Extract<ItemBody, { type: 'metered_usage' }>, actor: Actor) {
    this.turnCost.metered(item);
    this.gate.usage(
      {
        model: item.model,
        costUsd: item.costMicros / MICROS_PER_USD,
        inputTokens: item.inputTokens + item.cacheReadTokens + item.cacheWriteTokens,
        outputTokens: item.outputTokens,
      },
      actor,
    );
  }

  /** At the end of a metered turn: a notice when the harness's figure and the provider's differ beyond rounding. */
  private compareTurnCost(turnId: string, actor: Actor): void {
    const text = this.turnCost.settle();
    if (text) this.emit({ type: 'notice', level: 'warning', text }, turnId, actor);
  }

  /** Stamps, validates and makes an item durable, then asks the connection to send. */
  private emit(body: ItemBody, turnId: string | undefined, actor: Actor | undefined): ItemDraft {
    const stamp = { createdAt: new Date().toISOString(), ...(turnId ? { turnId } : {}), ...(actor ? { actor } : {}) };
    let candidate: Omit<ItemDraft, 'seq'> = { ...body, ...stamp } as Omit<ItemDraft, 'seq'>;
    const check = parseItemDraft({ ...candidate, seq: this.outbox.nextSeq });
    if (!check.ok) {
      // A harness produced something off-contract: record that, never send an invalid item.
      this.deps.log.error(
        { sessionId: this.sessionId, problem: check.message, type: body.type },
        'invalid item from harness',
      );
      candidate = {
        type: 'notice',
        level: 'error',
        text: `dropped an invalid ${body.type} item: ${check.message.slice(0, 2000)}`,
        ...stamp,
      } as Omit<ItemDraft, 'seq'>;
    }
    const draft = this.outbox.append(candidate);
    this.trace.observe(draft, actor);
    this.foldPolicy(draft);
    this.deps.onItems(this.sessionId);
    return draft;
  }
}

function promptText(content: ContentPart[]): string {
  return content.map((c) => (c.type === 'text' ? c.text : `[file ${c.path}]\n${c.content ?? ''}`)).join('\n');
}

/** A missing model key's error says what fixes it where this runner runs. */
function withKeyFix(text: string, fix: SupervisorDeps['missingKeyFix']): string {
  const name = missingModelKey(text);
  if (!name) return text;
  return `${text}: ${fix ? fix(name) : `set ${name} in the environment this runner starts in`}`;
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.slice(0, 4000) || 'unknown error';
}
