import { randomUUID } from 'node:crypto';
import { MAX_TEXT_CHARS, type ItemBody, type ToolKind } from '@yoke/protocol';
import type {
  HarnessEvent,
  HarnessSession,
  HarnessStartOptions,
  PermissionDecision,
  PermissionRequest,
  TurnInput,
  TurnOutcome,
} from '../adapter';
import { contentToText } from '../yoke/agent-loop';
import { clip } from '../yoke/diff';
import { costUsd } from '../yoke/pricing';
import type { CliProcess } from './cli-process';
import {
  CommandApprovalParams,
  DeltaNotification,
  ErrorNotification,
  FileChangeApprovalParams,
  ItemNotification,
  RpcMessage,
  TokenUsageNotification,
  TurnCompletedNotification,
  TurnRef,
  type ApprovalDecision,
  type ThreadItem,
} from './protocol';
import { codexChangeDiff, codexCommandArgv, codexFileChangeKind, displayPath, mcpToolKind } from './tools';

type RpcId = string | number;

interface Turn {
  input: TurnInput;
  codexTurnId: string | null;
  cancelled: boolean;
  lastError: string | null;
  resolve: (outcome: TurnOutcome) => void;
  reject: (error: Error) => void;
  /** Codex item id -> Yoke stream id, for deltas and their final item. */
  streams: Map<string, string>;
  /** Tool items the permission hook was asked about, and the reason of each refusal. */
  asked: Set<string>;
  denied: Map<string, string>;
  /** Tool items whose tool_call was emitted, and the items codex announced (approval requests only carry an id). */
  announced: Set<string>;
  items: Map<string, ThreadItem>;
  /** Approval requests still waiting for the hook. */
  waiting: Set<RpcId>;
}

/** One codex app-server thread: JSON-RPC plumbing, the approval bridge and the mapping to Yoke events. */
export class CodexSession implements HarnessSession {
  private nextId = 1;
  private readonly pending = new Map<RpcId, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private threadId = '';
  private model = '';
  private turn: Turn | null = null;
  private closing = false;

  constructor(
    private readonly proc: CliProcess,
    private readonly options: HarnessStartOptions,
  ) {
    void proc.exit.then((why) => this.onExit(why));
  }

  attach(threadId: string, model: string): void {
    this.threadId = threadId;
    this.model = model;
  }

  request(method: string, params: unknown): Promise<unknown> {
    if (!this.proc.isRunning) return Promise.reject(new Error('codex app-server is not running'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.proc.write({ jsonrpc: '2.0', id, method, params });
    });
  }

  notify(method: string, params?: unknown): void {
    this.proc.write({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) });
  }

  runTurn(input: TurnInput): Promise<TurnOutcome> {
    if (this.closing || !this.proc.isRunning) return Promise.reject(new Error('codex app-server is not running'));
    if (this.turn) return Promise.reject(new Error('a turn is already running in this session'));
    return new Promise<TurnOutcome>((resolve, reject) => {
      const turn: Turn = {
        input,
        codexTurnId: null,
        cancelled: false,
        lastError: null,
        resolve,
        reject,
        streams: new Map(),
        asked: new Set(),
        denied: new Map(),
        announced: new Set(),
        items: new Map(),
        waiting: new Set(),
      };
      this.turn = turn;
      const text = contentToText(input.content);
      this.request('turn/start', { threadId: this.threadId, input: [{ type: 'text', text, text_elements: [] }] }).then(
        (result) => {
          turn.codexTurnId ??= TurnRef.parse(result).turn.id;
          if (turn.cancelled) this.interrupt(turn);
        },
        (e: unknown) => this.settle(turn, null, new Error(`codex refused the turn: ${(e as Error).message}`)),
      );
    });
  }

  /**
   * `turn/steer`: Codex adds the message to its active turn (`expectedTurnId` fails the request when another turn
   * is active) and the model reads it at its next sampling. Refused before Codex has named the turn.
   */
  async steer(input: TurnInput): Promise<boolean> {
    const turn = this.turn;
    if (!turn || turn.cancelled || !turn.codexTurnId || !this.proc.isRunning) return false;
    const text = contentToText(input.content);
    try {
      await this.request('turn/steer', {
        threadId: this.threadId,
        input: [{ type: 'text', text, text_elements: [] }],
        expectedTurnId: turn.codexTurnId,
      });
      return true;
    } catch {
      return false;
    }
  }

  cancel(): void {
    const turn = this.turn;
    if (!turn || turn.cancelled) return;
    turn.cancelled = true;
    for (const id of turn.waiting) this.respond(id, { decision: 'cancel' });
    turn.waiting.clear();
    if (turn.codexTurnId) this.interrupt(turn);
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.proc.kill();
    if (this.turn) this.settle(this.turn, { stopReason: 'cancelled' }, null);
  }

  onLine(line: string): void {
    let message: RpcMessage;
    try {
      message = RpcMessage.parse(JSON.parse(line));
    } catch (e) {
      this.notice('error', `codex sent an invalid message (${(e as Error).message}): ${line}`);
      return;
    }
    const { id, method } = message;
    if (method !== undefined && id !== undefined) {
      this.onServerRequest(id, message).catch((e: unknown) => {
        // Fail closed: a request the adapter cannot read is refused.
        this.notice('error', `codex sent an unexpected ${method}: ${(e as Error).message}`);
        if (method.endsWith('/requestApproval')) this.respond(id, { decision: 'decline' });
        else this.proc.write({ jsonrpc: '2.0', id, error: { code: -32602, message: 'invalid params' } });
      });
    } else if (method !== undefined) {
      try {
        this.onNotification(method, message.params);
      } catch (e) {
        this.notice('error', `codex sent an unexpected ${method}: ${(e as Error).message}`.slice(0, 4000));
      }
    } else if (message.id !== undefined) {
      const waiter = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.error) waiter?.reject(new Error(message.error.message));
      else waiter?.resolve(message.result);
    }
  }

  private interrupt(turn: Turn): void {
    this.request('turn/interrupt', { threadId: this.threadId, turnId: turn.codexTurnId }).catch(() => undefined);
  }

  private respond(id: RpcId, result: unknown): void {
    this.proc.write({ jsonrpc: '2.0', id, result });
  }

  private emit(item: ItemBody): void {
    this.deliver({ kind: 'item', item });
  }

  private notice(level: 'info' | 'warning' | 'error', text: string): void {
    this.emit({ type: 'notice', level, text: clip(text, 4000) });
  }

  /** Passes an event on; a throwing handler fails the turn instead of the process. */
  private deliver(event: HarnessEvent): void {
    try {
      this.options.onEvent(event);
    } catch (e) {
      if (this.turn) this.settle(this.turn, null, new Error(`event handler failed: ${(e as Error).message}`));
      this.cancel();
    }
  }

  private settle(turn: Turn, outcome: TurnOutcome | null, error: Error | null): void {
    if (this.turn !== turn) return;
    this.turn = null;
    if (outcome) turn.resolve(outcome);
    else turn.reject(error ?? new Error('turn failed'));
  }

  private onExit(why: string): void {
    const gone = new Error(
      `codex app-server exited (${why})${this.proc.stderrTail ? `: ${this.proc.stderrTail}` : ''}`,
    );
    for (const waiter of this.pending.values()) waiter.reject(gone);
    this.pending.clear();
    if (this.turn) this.settle(this.turn, this.closing ? { stopReason: 'cancelled' } : null, gone);
  }

  private streamOf(turn: Turn, itemId: string): string {
    let id = turn.streams.get(itemId);
    if (!id) turn.streams.set(itemId, (id = randomUUID()));
    return id;
  }

  private onNotification(method: string, params: unknown): void {
    const turn = this.turn;
    if (!turn) return;
    const turnId = turn.input.turnId;
    switch (method) {
      case 'turn/started':
        turn.codexTurnId ??= TurnRef.parse(params).turn.id;
        return;
      case 'item/started':
        this.onItemStarted(turn, ItemNotification.parse(params).item);
        return;
      case 'item/completed':
        this.onItemCompleted(turn, ItemNotification.parse(params).item);
        return;
      case 'item/agentMessage/delta':
      case 'item/reasoning/textDelta':
      case 'item/reasoning/summaryTextDelta': {
        const { itemId, delta } = DeltaNotification.parse(params);
        const type = method === 'item/agentMessage/delta' ? 'agent_message_delta' : 'reasoning_delta';
        this.deliver({ kind: 'delta', delta: { type, turnId, streamId: this.streamOf(turn, itemId), text: delta } });
        return;
      }
      case 'item/commandExecution/outputDelta': {
        const { itemId, delta } = DeltaNotification.parse(params);
        const streamId = this.streamOf(turn, itemId);
        this.deliver({
          kind: 'delta',
          delta: { type: 'command_output_delta', turnId, streamId, callId: itemId, text: delta },
        });
        return;
      }
      case 'thread/tokenUsage/updated': {
        const { last } = TokenUsageNotification.parse(params).tokenUsage;
        const usage = {
          inputTokens: last.inputTokens,
          outputTokens: last.outputTokens,
          cachedTokens: last.cachedInputTokens,
        };
        this.emit({ type: 'usage', model: this.model, ...usage, costUsd: costUsd(this.model, usage) });
        return;
      }
      case 'error': {
        const { error, willRetry } = ErrorNotification.parse(params);
        if (willRetry) this.notice('warning', `codex: ${error.message} (retrying)`);
        else turn.lastError = error.message;
        return;
      }
      case 'turn/completed': {
        const { status, error } = TurnCompletedNotification.parse(params).turn;
        if (turn.cancelled || status === 'interrupted') this.settle(turn, { stopReason: 'cancelled' }, null);
        else if (status === 'failed') {
          this.settle(turn, null, new Error(error?.message ?? turn.lastError ?? 'codex reported a failed turn'));
        } else this.settle(turn, { stopReason: 'end_turn' }, null);
        return;
      }
    }
  }

  /** The canonical identity of a codex tool item; null for items that are not tool calls. */
  private toolOf(item: ThreadItem): Omit<PermissionRequest, 'callId'> | null {
    switch (item.type) {
      case 'commandExecution':
        return { tool: 'shell', nativeTool: 'commandExecution', input: { command: item.command, cwd: item.cwd } };
      case 'fileChange': {
        const changes = item.changes.map((c) => ({
          path: displayPath(this.options.workspace, c.path),
          kind: c.kind.type,
        }));
        return { tool: codexFileChangeKind(item.changes), nativeTool: 'fileChange', input: { changes } };
      }
      case 'mcpToolCall':
        return {
          tool: mcpToolKind(item.server, item.tool),
          nativeTool: item.tool,
          input: { arguments: item.arguments ?? null },
        };
      case 'webSearch':
        return { tool: 'web_search', nativeTool: 'webSearch', input: { query: item.query } };
      default:
        return null;
    }
  }

  private announce(turn: Turn, callId: string, tool: Omit<PermissionRequest, 'callId'>): void {
    if (turn.announced.has(callId)) return;
    turn.announced.add(callId);
    const input = JSON.parse(JSON.stringify(tool.input ?? null)) as unknown;
    this.emit({
      type: 'tool_call',
      callId,
      tool: tool.tool as ToolKind,
      nativeTool: tool.nativeTool,
      input,
      status: 'pending',
    });
  }

  private onItemStarted(turn: Turn, item: ThreadItem): void {
    turn.items.set(item.id, item);
    const tool = this.toolOf(item);
    if (tool) this.announce(turn, item.id, tool);
    else if (item.type === 'agentMessage' || item.type === 'reasoning') this.streamOf(turn, item.id);
  }

  private onItemCompleted(turn: Turn, item: ThreadItem): void {
    const result = (output: string, isError: boolean): void =>
      this.emit({ type: 'tool_result', callId: item.id, output: clip(output, MAX_TEXT_CHARS), isError });
    const tool = this.toolOf(item);
    if (tool) this.announce(turn, item.id, tool);
    if ((item.type === 'commandExecution' || item.type === 'fileChange') && item.status !== 'declined') {
      if (!turn.asked.has(item.id))
        this.notice('warning', `codex ran ${item.type} ${item.id} without asking for approval`);
    }
    switch (item.type) {
      case 'agentMessage':
        if (item.text)
          this.emit({
            type: 'agent_message',
            text: clip(item.text, MAX_TEXT_CHARS),
            streamId: this.streamOf(turn, item.id),
          });
        return;
      case 'reasoning': {
        const text = [...item.summary, ...item.content].join('\n\n');
        if (text)
          this.emit({ type: 'reasoning', text: clip(text, MAX_TEXT_CHARS), streamId: this.streamOf(turn, item.id) });
        return;
      }
      case 'commandExecution': {
        if (item.status === 'declined') return result(this.refusal(turn, item.id), true);
        const output = item.aggregatedOutput ?? '';
        this.emit({
          type: 'command',
          callId: item.id,
          argv: codexCommandArgv(item.command),
          cwd: item.cwd,
          exitCode: item.exitCode ?? null,
          output: clip(output, MAX_TEXT_CHARS),
        });
        const failed = item.status === 'failed' || (item.exitCode ?? 0) !== 0;
        return result(output || (failed ? `exit code ${item.exitCode ?? 'unknown'}` : '(no output)'), failed);
      }
      case 'fileChange':
        if (item.status === 'declined') return result(this.refusal(turn, item.id), true);
        if (item.status !== 'completed') return result('the patch was not applied', true);
        for (const change of item.changes)
          this.emit({ type: 'file_change', ...codexChangeDiff(this.options.workspace, change) });
        return result(
          item.changes.map((c) => `${c.kind.type} ${displayPath(this.options.workspace, c.path)}`).join('\n'),
          false,
        );
      case 'mcpToolCall':
        if (item.error) return result(item.error.message, true);
        return result(JSON.stringify(item.result?.content ?? []), false);
      case 'webSearch':
        return result(`searched: ${item.query}`, false);
      case 'other':
        return;
    }
  }

  private refusal(turn: Turn, callId: string): string {
    return turn.cancelled && !turn.denied.has(callId)
      ? 'not run: the turn was cancelled'
      : `permission denied: ${turn.denied.get(callId) ?? 'refused'}`;
  }

  private async onServerRequest(id: RpcId, message: RpcMessage): Promise<void> {
    const turn = this.turn;
    const method = message.method as string;
    if (!turn || (method !== 'item/commandExecution/requestApproval' && method !== 'item/fileChange/requestApproval')) {
      // Anything else (user input, MCP elicitation, extra permissions, legacy approvals) is refused: fail closed.
      this.proc.write({ jsonrpc: '2.0', id, error: { code: -32601, message: `${method} is not supported by Yoke` } });
      return;
    }
    let request: PermissionRequest;
    if (method === 'item/commandExecution/requestApproval') {
      const p = CommandApprovalParams.parse(message.params);
      const input = { command: p.command ?? '', cwd: p.cwd ?? this.options.workspace };
      request = { callId: p.itemId, tool: 'shell', nativeTool: 'commandExecution', input };
    } else {
      const { itemId } = FileChangeApprovalParams.parse(message.params);
      const started = turn.items.get(itemId);
      const tool = (started && this.toolOf(started)) ?? { tool: 'file_edit', nativeTool: 'fileChange', input: {} };
      request = { callId: itemId, ...tool };
    }
    this.announce(turn, request.callId, request);
    turn.asked.add(request.callId);
    turn.waiting.add(id);
    let decision: PermissionDecision;
    try {
      decision = await this.options.permission(request);
    } catch (e) {
      decision = { behavior: 'deny', reason: `permission check failed: ${(e as Error).message}` };
    }
    if (!turn.waiting.delete(id)) return; // answered already (the turn was cancelled)
    if (decision.behavior === 'deny') turn.denied.set(request.callId, decision.reason);
    const answer: ApprovalDecision = decision.behavior === 'allow' ? 'accept' : 'decline';
    this.respond(id, { decision: answer });
  }
}
