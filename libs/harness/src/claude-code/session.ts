import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type {
  HarnessEvent,
  HarnessSession,
  HarnessStartOptions,
  PermissionDecision,
  TurnInput,
  TurnOutcome,
} from '../adapter';
import { withTimeout } from '../codex/cli-process';
import { contentToText } from '../yoke/agent-loop';
import { clip } from '../yoke/diff';
import { ClaudeTurnMapper } from './mapper';
import { CanUseToolRequest, ClaudeLine, HookCallbackRequest } from './protocol';
import { signalAll, type LaunchedProcess } from './process';
import { claudeToolKind } from './tools';

/** The PreToolUse hook the adapter registers over the control channel. */
export const GATE_CALLBACK_ID = 'yoke_gate';

/** Starts the CLI, resuming Claude Code session `resume` when given. */
export type ClaudeSpawner = (resume: string | null, onLine: (line: string) => void) => LaunchedProcess;

export interface ClaudeSessionConfig {
  /** How long the CLI may take to start and answer `initialize`. */
  startTimeoutMs: number;
  /** How long an interrupt may take before the CLI is killed (and resumed on the next turn). */
  cancelGraceMs: number;
  /** Where the Claude Code session id is kept, so a new runner process resumes the conversation. */
  sessionFile: string;
}

interface Turn {
  input: TurnInput;
  mapper: ClaudeTurnMapper;
  cancelled: boolean;
  resolve: (outcome: TurnOutcome) => void;
  reject: (error: Error) => void;
  /** Permission requests (control request ids) still waiting for the hook. */
  waiting: Set<string>;
  /** Processes under the CLI when the turn began: anything newer is the turn's and dies with a cancel. */
  before: Set<number>;
  killTimer: NodeJS.Timeout | null;
}

type Pending = { resolve: (response: unknown) => void; reject: (e: Error) => void };

/**
 * One Claude Code conversation over the stream-json control protocol. Every tool call is gated: a PreToolUse hook
 * (registered over the control channel, failing closed) answers `ask`, which forces the CLI to ask over the stdio
 * permission channel (`can_use_tool`) whatever its own rules say, and that request goes to the permission hook.
 */
export class ClaudeCodeSession implements HarnessSession {
  private proc: LaunchedProcess | null = null;
  private readonly pending = new Map<string, Pending>();
  private turn: Turn | null = null;
  private closing = false;
  /** Claude Code's own session id, for `--resume`. */
  private claudeSessionId: string | null;
  private sawInit = false;

  constructor(
    private readonly options: HarnessStartOptions,
    private readonly model: string,
    private readonly spawn: ClaudeSpawner,
    private readonly config: ClaudeSessionConfig,
    resume: string | null,
  ) {
    this.claudeSessionId = resume;
  }

  /** The CLI's pid, while it runs. */
  get pid(): number | undefined {
    return this.proc?.isRunning ? this.proc.pid : undefined;
  }

  /** Starts the CLI (resuming the conversation when there is one) and completes the control handshake. */
  async open(): Promise<void> {
    const proc = this.spawn(this.claudeSessionId, (line) => {
      if (this.proc === proc) this.onLine(line);
    });
    this.proc = proc;
    this.sawInit = false;
    void proc.exit.then((why) => this.onExit(proc, why));
    const hooks = {
      PreToolUse: [{ hookCallbackIds: [GATE_CALLBACK_ID], timeout: 7 * 24 * 3600, onFailure: 'block' }],
    };
    try {
      await withTimeout(
        this.control({ subtype: 'initialize', hooks }),
        this.config.startTimeoutMs,
        'starting claude-code',
      );
    } catch (e) {
      await proc.kill();
      throw e;
    }
  }

  async runTurn(input: TurnInput): Promise<TurnOutcome> {
    if (this.closing) throw new Error('claude-code is not running');
    if (this.turn) throw new Error('a turn is already running in this session');
    if (!this.proc?.isRunning) await this.open(); // killed by a cancel that the interrupt did not settle
    const proc = this.proc as LaunchedProcess;
    return new Promise<TurnOutcome>((resolve, reject) => {
      const turn: Turn = {
        input,
        mapper: new ClaudeTurnMapper(
          { workspace: this.options.workspace, model: this.model, emit: (event) => this.deliver(event) },
          input.turnId,
        ),
        cancelled: false,
        resolve,
        reject,
        waiting: new Set(),
        before: new Set(proc.descendants()),
        killTimer: null,
      };
      this.turn = turn;
      proc.write({
        type: 'user',
        message: { role: 'user', content: contentToText(input.content) },
        parent_tool_use_id: null,
        session_id: this.claudeSessionId ?? '',
      });
    });
  }

  cancel(): void {
    const turn = this.turn;
    const proc = this.proc;
    if (!turn || turn.cancelled || !proc) return;
    turn.cancelled = true;
    for (const id of turn.waiting) this.answerPermission(id, { behavior: 'deny', reason: 'the turn was cancelled' });
    turn.waiting.clear();
    this.control({ subtype: 'interrupt' }).catch(() => undefined);
    // An interrupt that does not end the turn in time: kill the CLI; the next turn resumes the conversation.
    turn.killTimer = setTimeout(() => {
      if (this.turn === turn) void proc.kill();
    }, this.config.cancelGraceMs);
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.proc) await this.proc.kill();
    if (this.turn) this.settle(this.turn, { stopReason: 'cancelled' });
  }

  onLine(line: string): void {
    let message: ClaudeLine;
    try {
      message = ClaudeLine.parse(JSON.parse(line));
    } catch (e) {
      if (line.startsWith('{')) {
        this.notice(
          'warning',
          `claude-code sent an unexpected message (${(e as Error).message}): ${line.slice(0, 1000)}`,
        );
      }
      return;
    }
    switch (message.type) {
      case 'control_response': {
        const { request_id: id, subtype, error, response } = message.response;
        const waiter = this.pending.get(id);
        this.pending.delete(id);
        if (subtype === 'success') waiter?.resolve(response);
        else waiter?.reject(new Error(error ?? `control request ${id} failed`));
        return;
      }
      case 'control_request':
        this.onControlRequest(message.request_id, message.request).catch((e: unknown) => {
          // Fail closed: a request the adapter cannot read is refused.
          this.notice('error', `claude-code permission request failed: ${(e as Error).message}`);
          this.respondError(message.request_id, 'the request could not be handled');
        });
        return;
      case 'control_cancel_request':
        this.turn?.waiting.delete(message.request_id);
        return;
      case 'system':
        if (message.subtype === 'init' && message.session_id) this.onInit(message.session_id);
        break;
      default:
        break;
    }
    const turn = this.turn;
    if (!turn) return;
    const result = turn.mapper.handle(message);
    if (!result) return;
    const outcome = turn.mapper.outcome(result, turn.cancelled);
    if (outcome instanceof Error) this.settle(turn, null, outcome);
    else this.settle(turn, outcome);
  }

  private onInit(sessionId: string): void {
    this.sawInit = true;
    if (sessionId === this.claudeSessionId) return;
    this.claudeSessionId = sessionId;
    try {
      writeFileSync(this.config.sessionFile, JSON.stringify({ sessionId }));
    } catch (e) {
      this.notice('warning', `claude-code: could not save the session id: ${(e as Error).message}`);
    }
  }

  private control(request: Record<string, unknown>): Promise<unknown> {
    const proc = this.proc;
    if (!proc?.isRunning) return Promise.reject(new Error('claude-code is not running'));
    const id = `yoke-${randomUUID()}`;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      proc.write({ type: 'control_request', request_id: id, request });
    });
  }

  private respond(requestId: string, response: unknown): void {
    this.proc?.write({ type: 'control_response', response: { subtype: 'success', request_id: requestId, response } });
  }

  private respondError(requestId: string, error: string): void {
    this.proc?.write({ type: 'control_response', response: { subtype: 'error', request_id: requestId, error } });
  }

  private async onControlRequest(requestId: string, request: { subtype: string }): Promise<void> {
    const turn = this.turn;
    if (request.subtype === 'hook_callback') {
      const hook = HookCallbackRequest.parse(request);
      const isGate = hook.callback_id === GATE_CALLBACK_ID && hook.input.hook_event_name === 'PreToolUse';
      const refuse = !isGate || !turn || turn.cancelled;
      this.respond(requestId, {
        hookSpecificOutput: {
          hookEventName: 'PreToolUse',
          // `ask` sends every call to the stdio permission channel, whatever the CLI's own rules would allow.
          permissionDecision: refuse ? 'deny' : 'ask',
          permissionDecisionReason: refuse ? 'no turn is running' : 'Yoke checks every tool call',
        },
      });
      return;
    }
    if (request.subtype !== 'can_use_tool') {
      this.respondError(requestId, `${request.subtype} is not supported by Yoke`);
      return;
    }
    const ask = CanUseToolRequest.parse(request);
    if (!turn || turn.cancelled) {
      this.answerPermission(requestId, { behavior: 'deny', reason: 'no turn is running' });
      return;
    }
    turn.mapper.announce(ask.tool_use_id, ask.tool_name, ask.input);
    turn.mapper.asked.add(ask.tool_use_id);
    turn.mapper.denied.set(ask.tool_use_id, 'refused'); // until the hook allows it
    turn.waiting.add(requestId);
    let decision: PermissionDecision;
    try {
      decision = await this.options.permission({
        callId: ask.tool_use_id,
        tool: claudeToolKind(ask.tool_name),
        nativeTool: ask.tool_name,
        input: ask.input,
      });
    } catch (e) {
      decision = { behavior: 'deny', reason: `permission check failed: ${(e as Error).message}` };
    }
    if (!turn.waiting.delete(requestId)) return; // answered already (the turn was cancelled)
    if (decision.behavior === 'allow') turn.mapper.denied.delete(ask.tool_use_id);
    else turn.mapper.denied.set(ask.tool_use_id, decision.reason);
    this.answerPermission(requestId, decision, ask.input);
  }

  private answerPermission(requestId: string, decision: PermissionDecision, input: unknown = {}): void {
    this.respond(
      requestId,
      decision.behavior === 'allow'
        ? { behavior: 'allow', updatedInput: input }
        : { behavior: 'deny', message: `permission denied: ${decision.reason}` },
    );
  }

  private notice(level: 'info' | 'warning' | 'error', text: string): void {
    this.deliver({ kind: 'item', item: { type: 'notice', level, text: clip(text, 4000) } });
  }

  /** Passes an event on; a throwing handler fails the turn instead of the process. */
  private deliver(event: HarnessEvent): void {
    try {
      this.options.onEvent(event);
    } catch (e) {
      const turn = this.turn;
      if (turn) {
        this.cancel();
        this.settle(turn, null, new Error(`event handler failed: ${(e as Error).message}`));
      }
    }
  }

  private settle(turn: Turn, outcome: TurnOutcome | null, error?: Error): void {
    if (this.turn !== turn) return;
    this.turn = null;
    if (turn.killTimer) clearTimeout(turn.killTimer);
    if (turn.cancelled && this.proc?.isRunning) {
      // Whatever the turn started and the interrupt left behind (a backgrounded command) ends with it.
      signalAll(
        null,
        this.proc.descendants().filter((pid) => !turn.before.has(pid)),
        'SIGKILL',
      );
    }
    if (outcome) turn.resolve(outcome);
    else turn.reject(error ?? new Error('turn failed'));
  }

  private onExit(proc: LaunchedProcess, why: string): void {
    if (this.proc !== proc) return;
    const detail = proc.stderrTail ? `: ${clip(proc.stderrTail, 2000)}` : '';
    const gone = new Error(`claude-code exited (${why})${detail}`);
    for (const waiter of this.pending.values()) waiter.reject(gone);
    this.pending.clear();
    // A resume that never got as far as `init` is not coming back: the next start begins a new conversation.
    if (!this.sawInit && this.claudeSessionId && !this.closing && !this.turn?.cancelled) this.claudeSessionId = null;
    const turn = this.turn;
    if (turn) this.settle(turn, turn.cancelled || this.closing ? { stopReason: 'cancelled' } : null, gone);
  }
}
