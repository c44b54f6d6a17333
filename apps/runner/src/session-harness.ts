import { join } from 'node:path';
import type { Actor, HarnessName, ItemBody } from '@yoke/protocol';
import type {
  DelegateRequest,
  DelegateResult,
  HarnessAdapter,
  HarnessEvent,
  HarnessSession,
  PermissionHook,
  ProviderEnv,
} from '@yoke/harness';
import type { PolicyGate } from './policy-gate';
import type { SessionSandbox, SessionSandboxFactory } from './sandbox';
import type { SessionStateStore } from './session-state';
import type { SessionTrace, SessionTraceInfo } from './session-trace';

/** A message's request to run the session on another harness and/or model from its turn on. */
export type HarnessChange = { harness?: HarnessName; model?: string };

/** What starting a session's harness takes from the runner (a part of the supervisor's dependencies). */
export interface HarnessDeps {
  dir: string;
  adapterFor: (harness: string) => HarnessAdapter;
  provider: ProviderEnv;
  permission: PermissionHook;
  sandbox?: SessionSandboxFactory;
  delegate?: (parentId: string, request: DelegateRequest, traceparent?: string) => Promise<DelegateResult>;
  checkWorkspace?: (workspace: string) => string | null;
}

/** What the session does with what its harness and sandbox report, for the turn that is open (or `turnId`). */
export interface SessionHarnessHooks {
  gate: PolicyGate;
  trace: SessionTrace;
  /** What the trace says of the session: its harness and model follow a switch. */
  traceInfo: SessionTraceInfo;
  /** Why the session may not run at all (a start refused by the runner), if so. */
  refusal: () => string | undefined;
  /** A harness event (an item or a streamed chunk), for turn `turnId` by `actor` unless a turn is open. */
  onEvent: (event: HarnessEvent, turnId: string, actor: Actor) => void;
  /** An item the sandbox reports (egress, metered usage), likewise. */
  onSandboxItem: (body: ItemBody, turnId: string, actor: Actor) => void;
}

/**
 * A session's harness process and the Omnibox sandbox it runs in. The harness starts on the first turn that needs
 * it (with the sandbox, built once), ends on a switch of harness or model between turns (the sandbox stays: it does
 * not depend on the harness), and both end with the session.
 */
export class SessionHarness {
  private harness: HarnessSession | null = null;
  private sandbox: SessionSandbox | null = null;

  constructor(
    private readonly sessionId: string,
    private readonly store: SessionStateStore,
    private readonly deps: HarnessDeps,
    private readonly hooks: SessionHarnessHooks,
  ) {}

  /** The running harness, if one has started. */
  get current(): HarnessSession | null {
    return this.harness;
  }

  /** Whether the egress proxy meters this session's model calls (its sandbox has a metering proxy). */
  get metered(): boolean {
    return !!this.sandbox?.metered;
  }

  /** Stops the running turn, if a harness runs one. */
  cancel(): void {
    this.harness?.cancel();
  }

  /**
   * A message asked for another harness and/or model from its turn on: the current harness process ends and the
   * next `ensure` starts the new one. A new harness gets a state directory of its own, so it starts without the
   * earlier conversation (there is no way to hand a harness another's history); a model change on the same harness
   * keeps its state, so the harness resumes where it can. The switch is persisted with the session state before the
   * turn starts. Returns the notice text, or null when nothing changes.
   */
  async switch(change: HarnessChange): Promise<string | null> {
    const { spec } = this.store.state;
    const harness = change.harness ?? spec.harness;
    const model = change.model ?? spec.model;
    if (harness === spec.harness && model === spec.model) return null;
    const newHarness = harness !== spec.harness;
    await this.harness?.close().catch(() => undefined);
    this.harness = null;
    this.store.update((s) => {
      s.spec = { ...s.spec, harness, model };
      if (newHarness) s.harnessSwitches = (s.harnessSwitches ?? 0) + 1;
    });
    this.hooks.traceInfo.harness = harness;
    this.hooks.traceInfo.model = model ?? spec.agent.model ?? null;
    const modelText = model ?? spec.agent.model ?? "the harness's default";
    return newHarness
      ? `harness switched to ${harness}, model ${modelText}; it starts fresh, without the earlier conversation ` +
          '(which stays in this log)'
      : `model switched to ${modelText} on ${harness}`;
  }

  /** The session's harness, started (with its sandbox) if it is not running. */
  async ensure(turnId: string, actor: Actor): Promise<HarnessSession> {
    if (this.harness) return this.harness;
    const refusal = this.hooks.refusal() ?? this.deps.checkWorkspace?.(this.store.state.workspace);
    if (refusal) throw new Error(refusal);
    const { spec, workspace } = this.store.state;
    const { gate, trace } = this.hooks;
    const adapter = this.deps.adapterFor(spec.harness);
    const delegate = this.deps.delegate;
    this.sandbox ??= this.deps.sandbox
      ? await this.deps.sandbox({
          spec,
          workspace,
          record: (body) => this.hooks.onSandboxItem(body, turnId, actor),
        })
      : null;
    try {
      this.harness = await adapter.start({
        launch: this.sandbox?.launch,
        sessionId: this.sessionId,
        agent: spec.agent,
        model: spec.model,
        workspace,
        // The first harness keeps `harness/`; each switched-to harness gets its own, so it starts fresh.
        stateDir: join(
          this.deps.dir,
          this.store.state.harnessSwitches ? `harness-${this.store.state.harnessSwitches}` : 'harness',
        ),
        provider: this.sandbox?.provider ?? this.deps.provider,
        // Every tool call passes the policies first, then the runner's own hook.
        permission: async (request) => {
          const verdict = await gate.toolCall(request, this.store.state.openTurn?.actor ?? null);
          return verdict.behavior === 'allow' ? this.deps.permission(request) : verdict;
        },
        delegate: delegate
          ? (request) => delegate(this.sessionId, request, trace.toolTraceparent(request.callId))
          : undefined,
        onEvent: (event) => this.hooks.onEvent(event, turnId, actor),
      });
    } catch (err) {
      // Nothing of a failed start stays: the next turn builds the sandbox again, with the model keys the runner has
      // by then (a key stored with `yoke keys set` after this failure).
      await this.sandbox?.close().catch(() => undefined);
      this.sandbox = null;
      throw err;
    }
    return this.harness;
  }

  async close(): Promise<void> {
    await this.harness?.close().catch(() => undefined);
    this.harness = null;
    await this.sandbox?.close().catch(() => undefined);
    this.sandbox = null;
  }
}
