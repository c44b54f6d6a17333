import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MAX_TEXT_CHARS, type ItemBody } from '@yoke/protocol';
import type {
  HarnessEvent,
  HarnessSession,
  HarnessStartOptions,
  PermissionDecision,
  TurnInput,
  TurnOutcome,
} from '../adapter';
import type { CliProcess } from '../codex/cli-process';
import { displayPath } from '../codex/tools';
import { contentToText } from '../yoke/agent-loop';
import { clip, unifiedDiff } from '../yoke/diff';
import { costUsd } from '../yoke/pricing';
import { PERMISSION_DIALOG_TITLE } from './extension';
import { DIALOG_METHODS, GateRequest, PiLine, type ToolResultBody } from './protocol';
import { piExitCode, piToolKind, piToolPath } from './tools';

interface Turn {
  input: TurnInput;
  cancelled: boolean;
  lastError: string | null;
  resolve: (outcome: TurnOutcome) => void;
  reject: (error: Error) => void;
  /** Assistant messages seen, so text blocks of different messages get different stream ids. */
  messageNo: number;
  streams: Map<string, string>;
  tools: Map<string, { name: string; args: unknown; output: string; before: string | null }>;
  /** Permission dialogs still waiting for the hook, and the tool calls refused. */
  waiting: Set<string>;
  denied: Set<string>;
}

type Pending = { resolve: (data: unknown) => void; reject: (e: Error) => void };

/** One Pi RPC process: commands and responses, the permission dialog bridge, and the mapping to Yoke events. */
export class PiSession implements HarnessSession {
  private readonly pending = new Map<string, Pending>();
  private turn: Turn | null = null;
  private closing = false;

  constructor(
    private readonly proc: CliProcess,
    private readonly options: HarnessStartOptions,
    private readonly model: string,
  ) {
    void proc.exit.then((why) => this.onExit(why));
  }

  /** Resolves once Pi answers a first command (it has loaded its config, model and extension). */
  async ready(): Promise<void> {
    await this.command({ type: 'get_state' });
  }

  runTurn(input: TurnInput): Promise<TurnOutcome> {
    if (this.closing || !this.proc.isRunning) return Promise.reject(new Error('pi is not running'));
    if (this.turn) return Promise.reject(new Error('a turn is already running in this session'));
    return new Promise<TurnOutcome>((resolve, reject) => {
      const turn: Turn = {
        input,
        cancelled: false,
        lastError: null,
        resolve,
        reject,
        messageNo: 0,
        streams: new Map(),
        tools: new Map(),
        waiting: new Set(),
        denied: new Set(),
      };
      this.turn = turn;
      this.command({ type: 'prompt', message: contentToText(input.content) }).catch((e: unknown) =>
        this.settle(turn, null, new Error(`pi refused the prompt: ${(e as Error).message}`)),
      );
    });
  }

  /**
   * Pi's `steer` command: the message waits in Pi's steering queue and joins the conversation once the running
   * assistant step's tool calls are done, before the next model call (also after a final answer: Pi checks the queue
   * before it ends the run).
   */
  async steer(input: TurnInput): Promise<boolean> {
    const turn = this.turn;
    if (!turn || turn.cancelled || this.closing || !this.proc.isRunning) return false;
    try {
      await this.command({ type: 'steer', message: contentToText(input.content) });
      return true;
    } catch {
      return false;
    }
  }

  cancel(): void {
    const turn = this.turn;
    if (!turn || turn.cancelled) return;
    turn.cancelled = true;
    for (const id of turn.waiting) this.answerDialog(id, { behavior: 'deny', reason: 'the turn was cancelled' });
    turn.waiting.clear();
    this.command({ type: 'abort' }).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.proc.kill();
    if (this.turn) this.settle(this.turn, { stopReason: 'cancelled' }, null);
  }

  onLine(line: string): void {
    let message: PiLine;
    try {
      message = PiLine.parse(JSON.parse(line));
    } catch (e) {
      this.notice('error', `pi sent an invalid message (${(e as Error).message}): ${line.slice(0, 1000)}`);
      return;
    }
    if (message.type === 'response') {
      const waiter = message.id ? this.pending.get(message.id) : undefined;
      if (!waiter || !message.id) return;
      this.pending.delete(message.id);
      if (message.success) waiter.resolve(message);
      else waiter.reject(new Error(message.error ?? `${message.command} failed`));
    } else if (message.type === 'extension_ui_request') {
      this.onDialog(message).catch((e: unknown) => {
        this.notice('error', `pi permission dialog failed: ${(e as Error).message}`);
        this.answerDialog(message.id, { behavior: 'deny', reason: 'the permission check failed' });
      });
    } else if (message.type === 'extension_error') {
      this.notice('error', `pi extension ${message.extensionPath ?? ''} failed: ${message.error}`);
    } else if (this.turn) {
      this.onEvent(this.turn, message);
    }
  }

  private command(body: Record<string, unknown>): Promise<unknown> {
    if (!this.proc.isRunning) return Promise.reject(new Error('pi is not running'));
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.proc.write({ ...body, id });
    });
  }

  private emit(item: ItemBody): void {
    this.deliver({ kind: 'item', item });
  }

  private notice(level: 'info' | 'warning' | 'error', text: string): void {
    this.emit({ type: 'notice', level, text: clip(text, 4000) });
  }

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
    const gone = new Error(`pi exited (${why})${this.proc.stderrTail ? `: ${this.proc.stderrTail}` : ''}`);
    for (const waiter of this.pending.values()) waiter.reject(gone);
    this.pending.clear();
    if (this.turn) this.settle(this.turn, this.closing ? { stopReason: 'cancelled' } : null, gone);
  }

  private streamOf(turn: Turn, key: string): string {
    let id = turn.streams.get(key);
    if (!id) turn.streams.set(key, (id = randomUUID()));
    return id;
  }

  private onEvent(turn: Turn, message: PiLine): void {
    const turnId = turn.input.turnId;
    switch (message.type) {
      case 'message_start':
        if (message.message.role === 'assistant') turn.messageNo++;
        return;
      case 'message_update': {
        const event = message.assistantMessageEvent;
        const key = `${turn.messageNo}:${event.contentIndex ?? 0}`;
        const streamId = this.streamOf(turn, key);
        if (event.type === 'text_delta' && event.delta) {
          this.deliver({ kind: 'delta', delta: { type: 'agent_message_delta', turnId, streamId, text: event.delta } });
        } else if (event.type === 'thinking_delta' && event.delta) {
          this.deliver({ kind: 'delta', delta: { type: 'reasoning_delta', turnId, streamId, text: event.delta } });
        } else if (event.type === 'text_end' && event.content) {
          this.emit({ type: 'agent_message', text: clip(event.content, MAX_TEXT_CHARS), streamId });
        } else if (event.type === 'thinking_end' && event.content) {
          this.emit({ type: 'reasoning', text: clip(event.content, MAX_TEXT_CHARS), streamId });
        }
        return;
      }
      case 'message_end': {
        const { role, usage, stopReason, errorMessage, model } = message.message;
        if (role !== 'assistant') return;
        if (stopReason === 'error') turn.lastError = errorMessage ?? 'the model call failed';
        if (usage && usage.input + usage.output + usage.cacheRead + usage.cacheWrite > 0) {
          const counts = {
            inputTokens: Math.round(usage.input + usage.cacheRead + usage.cacheWrite),
            outputTokens: Math.round(usage.output),
            cachedTokens: Math.round(usage.cacheRead),
          };
          const name = model ?? this.model;
          this.emit({ type: 'usage', model: name, ...counts, costUsd: costUsd(name, counts) });
        }
        return;
      }
      case 'tool_execution_start': {
        const path = piToolPath(message.args);
        const before = path && ['write', 'edit'].includes(message.toolName) ? this.readFile(path) : null;
        turn.tools.set(message.toolCallId, { name: message.toolName, args: message.args, output: '', before });
        const input = JSON.parse(JSON.stringify(message.args ?? null)) as unknown;
        const tool = piToolKind(message.toolName);
        this.emit({
          type: 'tool_call',
          callId: message.toolCallId,
          tool,
          nativeTool: message.toolName,
          input,
          status: 'pending',
        });
        return;
      }
      case 'tool_execution_update': {
        const call = turn.tools.get(message.toolCallId);
        const text = textOf(message.partialResult);
        if (!call || call.name !== 'bash' || !text) return;
        const delta = text.startsWith(call.output) ? text.slice(call.output.length) : text;
        call.output = text;
        if (!delta) return;
        const streamId = this.streamOf(turn, `tool:${message.toolCallId}`);
        this.deliver({
          kind: 'delta',
          delta: { type: 'command_output_delta', turnId, streamId, callId: message.toolCallId, text: delta },
        });
        return;
      }
      case 'tool_execution_end':
        this.onToolEnd(turn, message);
        return;
      case 'auto_retry_start':
        this.notice(
          'warning',
          `pi: retrying the model call (attempt ${message.attempt}): ${message.errorMessage ?? ''}`,
        );
        return;
      case 'agent_end':
        if (turn.cancelled) this.settle(turn, { stopReason: 'cancelled' }, null);
        else if (turn.lastError) this.settle(turn, null, new Error(turn.lastError));
        else this.settle(turn, { stopReason: 'end_turn' }, null);
        return;
      case 'response':
      case 'extension_ui_request':
      case 'extension_error':
      case 'other':
        return;
    }
  }

  private onToolEnd(turn: Turn, message: Extract<PiLine, { type: 'tool_execution_end' }>): void {
    const call = turn.tools.get(message.toolCallId);
    const output = textOf(message.result);
    const blocked = turn.denied.has(message.toolCallId);
    if (call && !blocked && message.toolName === 'bash') {
      const command = (call.args as { command?: unknown }).command;
      this.emit({
        type: 'command',
        callId: message.toolCallId,
        argv: ['bash', '-c', typeof command === 'string' ? command : ''],
        cwd: this.options.workspace,
        exitCode: piExitCode(output, message.isError),
        output: clip(output, MAX_TEXT_CHARS),
      });
    }
    const path = call ? piToolPath(call.args) : null;
    if (call && path && !message.isError && ['write', 'edit'].includes(call.name)) {
      const after = this.readFile(path);
      const shown = displayPath(this.options.workspace, resolve(this.options.workspace, path));
      if (after !== null && after !== call.before)
        this.emit({ type: 'file_change', path: shown, diff: unifiedDiff(shown, call.before, after) });
    }
    this.emit({
      type: 'tool_result',
      callId: message.toolCallId,
      output: clip(output, MAX_TEXT_CHARS),
      isError: message.isError,
    });
  }

  private readFile(path: string): string | null {
    try {
      return readFileSync(resolve(this.options.workspace, path), 'utf8');
    } catch {
      return null;
    }
  }

  private async onDialog(message: Extract<PiLine, { type: 'extension_ui_request' }>): Promise<void> {
    if (!DIALOG_METHODS.has(message.method)) return;
    const turn = this.turn;
    const parsed = GateRequest.safeParse(safeJson(message.placeholder));
    if (!turn || message.method !== 'input' || message.title !== PERMISSION_DIALOG_TITLE || !parsed.success) {
      this.proc.write({ type: 'extension_ui_response', id: message.id, cancelled: true });
      return;
    }
    const { toolCallId, toolName, input } = parsed.data;
    turn.waiting.add(message.id);
    turn.denied.add(toolCallId); // until the hook allows it
    let decision: PermissionDecision;
    try {
      decision = await this.options.permission({
        callId: toolCallId,
        tool: piToolKind(toolName),
        nativeTool: toolName,
        input,
      });
    } catch (e) {
      decision = { behavior: 'deny', reason: `permission check failed: ${(e as Error).message}` };
    }
    if (!turn.waiting.delete(message.id)) return; // answered already (the turn was cancelled)
    if (decision.behavior === 'allow') turn.denied.delete(toolCallId);
    this.answerDialog(message.id, decision);
  }

  private answerDialog(id: string, decision: PermissionDecision): void {
    this.proc.write({ type: 'extension_ui_response', id, value: JSON.stringify(decision) });
  }
}

function textOf(body: ToolResultBody): string {
  return body.content.map((part) => part.text ?? '').join('');
}

function safeJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '') as unknown;
  } catch {
    return null;
  }
}
