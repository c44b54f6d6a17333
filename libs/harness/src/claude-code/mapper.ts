import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { MAX_TEXT_CHARS, type ItemBody } from '@yoke/protocol';
import type { HarnessEvent, TurnOutcome } from '../adapter';
import { displayPath } from '../codex/tools';
import { clip, unifiedDiff } from '../yoke/diff';
import { costUsd } from '../yoke/pricing';
import type { ClaudeMessage, ClaudeUsage, ContentBlock } from './protocol';
import { FILE_WRITING_TOOLS, bashExitCode, bashOutput, claudeToolKind, claudeToolPath, toolResultText } from './tools';

export interface MapperHost {
  workspace: string;
  /** The model asked for, named in usage items when the CLI does not say. */
  model: string;
  emit(event: HarnessEvent): void;
  /** The harness named in notices and errors (default `claude-code`). */
  harness?: string;
}

type ResultLine = Extract<ClaudeMessage, { type: 'result' }>;

interface PendingUsage {
  model: string;
  input: number;
  cacheCreation: number;
  cacheRead: number;
  output: number;
}

/** The model the CLI names in messages it made up itself (API errors, interruptions), not a model call. */
const SYNTHETIC_MODEL = '<synthetic>';

/**
 * Maps one turn of Claude Code's stream-json messages (from the CLI or the Agent SDK: the shapes are the same) to
 * Yoke items and deltas: text and thinking with their deltas, tool calls with canonical kinds, Bash as `command`,
 * file tools as `file_change`, and one `usage` per model call with its cost.
 */
export class ClaudeTurnMapper {
  private readonly streams = new Map<string, string>();
  private readonly blocksSeen = new Map<string, number>();
  private readonly usage = new Map<string, PendingUsage>();
  private readonly calls = new Map<string, { name: string; input: unknown; before: string | null }>();
  /** Tool calls the permission hook was asked about, and the reasons of its refusals. */
  readonly asked = new Set<string>();
  readonly denied = new Map<string, string>();
  /** The last error the CLI reported within the turn (an API error, a retry that gave up). */
  lastError: string | null = null;

  constructor(
    private readonly host: MapperHost,
    private readonly turnId: string,
  ) {}

  private get harness(): string {
    return this.host.harness ?? 'claude-code';
  }

  /** Handles one message; returns the `result` line that ends the turn, else null. */
  handle(message: ClaudeMessage): ResultLine | null {
    switch (message.type) {
      case 'stream_event':
        this.onStreamEvent(message);
        return null;
      case 'assistant':
        this.onAssistant(message);
        return null;
      case 'user':
        if (Array.isArray(message.message.content)) {
          for (const block of message.message.content)
            if (block.type === 'tool_result') this.onToolResult(block, message.tool_use_result);
        }
        return null;
      case 'system':
        if (message.subtype === 'api_retry') {
          this.notice('warning', `${this.harness}: retrying the model call (attempt ${message.attempt ?? '?'})`);
        }
        return null;
      case 'result':
        this.flushUsage();
        return message;
    }
  }

  /** Emits the tool_call of a call (once), e.g. when a permission request arrives before its assistant message. */
  announce(callId: string, name: string, input: unknown): void {
    if (this.calls.has(callId)) return;
    const path = FILE_WRITING_TOOLS.has(name) ? claudeToolPath(input) : null;
    this.calls.set(callId, { name, input, before: path ? this.readFile(path) : null });
    this.emit({
      type: 'tool_call',
      callId,
      tool: claudeToolKind(name),
      nativeTool: name,
      input: JSON.parse(JSON.stringify(input ?? null)) as unknown,
      status: 'pending',
    });
  }

  /** How the turn ended, from its result line. */
  outcome(result: ResultLine, cancelled: boolean): TurnOutcome | Error {
    if (cancelled) return { stopReason: 'cancelled' };
    if (result.subtype === 'error_max_turns' || result.terminal_reason === 'max_turns') {
      return { stopReason: 'max_turns' };
    }
    if (result.is_error) {
      const detail = result.errors?.join('; ') || this.lastError || result.result || result.subtype;
      const status = result.api_error_status ? ` (HTTP ${result.api_error_status})` : '';
      return new Error(`${this.harness}: ${detail}${status}`);
    }
    if (result.stop_reason === 'refusal') return { stopReason: 'refusal' };
    return { stopReason: 'end_turn' };
  }

  private emit(item: ItemBody): void {
    this.host.emit({ kind: 'item', item });
  }

  private notice(level: 'info' | 'warning' | 'error', text: string): void {
    this.emit({ type: 'notice', level, text: clip(text, 4000) });
  }

  private streamOf(key: string): string {
    let id = this.streams.get(key);
    if (!id) this.streams.set(key, (id = randomUUID()));
    return id;
  }

  private onStreamEvent(message: Extract<ClaudeMessage, { type: 'stream_event' }>): void {
    const { event } = message;
    // Every forwarded event names its model call; parallel calls (sub-agents) interleave.
    const key = message.api_message_id ?? event.message?.id ?? '';
    if (event.type === 'message_start') {
      this.usage.set(key, { model: event.message?.model ?? this.host.model, ...counts(event.message?.usage) });
      return;
    }
    if (event.type === 'message_delta') {
      const pending = this.usage.get(key);
      if (pending && event.usage) {
        const update = counts(event.usage);
        pending.output = Math.max(pending.output, update.output);
        // Some servers report input counts only at the end.
        pending.input ||= update.input;
        pending.cacheRead ||= update.cacheRead;
        pending.cacheCreation ||= update.cacheCreation;
      }
      return;
    }
    if (event.type === 'message_stop') {
      const pending = this.usage.get(key);
      this.usage.delete(key);
      if (pending) this.emitUsage(pending);
      return;
    }
    if (event.type !== 'content_block_delta' || message.parent_tool_use_id) return;
    const streamId = this.streamOf(`${key}:${event.index ?? 0}`);
    const { delta } = event;
    if (delta?.type === 'text_delta' && delta.text) {
      this.host.emit({
        kind: 'delta',
        delta: { type: 'agent_message_delta', turnId: this.turnId, streamId, text: delta.text },
      });
    } else if (delta?.type === 'thinking_delta' && delta.thinking) {
      this.host.emit({
        kind: 'delta',
        delta: { type: 'reasoning_delta', turnId: this.turnId, streamId, text: delta.thinking },
      });
    }
  }

  /** Usage of model calls whose stream never finished (an interrupted or failed call). */
  private flushUsage(): void {
    for (const pending of this.usage.values()) {
      if (pending.input + pending.output + pending.cacheRead + pending.cacheCreation > 0) this.emitUsage(pending);
    }
    this.usage.clear();
  }

  private emitUsage(pending: PendingUsage): void {
    const usage = {
      inputTokens: Math.round(pending.input + pending.cacheCreation + pending.cacheRead),
      outputTokens: Math.round(pending.output),
      cachedTokens: Math.round(pending.cacheRead),
    };
    this.emit({ type: 'usage', model: pending.model, ...usage, costUsd: costUsd(pending.model, usage) });
  }

  private onAssistant(message: Extract<ClaudeMessage, { type: 'assistant' }>): void {
    const { id, model, content } = message.message;
    const synthetic = model === SYNTHETIC_MODEL;
    for (const block of content) {
      // The CLI prints one line per content block of a message, in order: the n-th line is block n.
      const index = this.blocksSeen.get(id) ?? 0;
      this.blocksSeen.set(id, index + 1);
      if (block.type === 'tool_use' && block.id) {
        this.announce(block.id, block.name ?? '', block.input);
      } else if (synthetic) {
        if (block.type === 'text' && block.text) this.lastError = block.text;
      } else if (message.parent_tool_use_id) {
        continue; // a sub-agent's text: its result reaches the main thread as the Task tool's output
      } else if (block.type === 'text' && block.text) {
        const streamId = this.streamOf(`${id}:${index}`);
        this.emit({ type: 'agent_message', text: clip(block.text, MAX_TEXT_CHARS), streamId });
      } else if (block.type === 'thinking' && block.thinking) {
        const streamId = this.streamOf(`${id}:${index}`);
        this.emit({ type: 'reasoning', text: clip(block.thinking, MAX_TEXT_CHARS), streamId });
      }
    }
  }

  private onToolResult(block: ContentBlock, structured: unknown): void {
    const callId = block.tool_use_id;
    if (!callId) return;
    const call = this.calls.get(callId);
    const text = toolResultText(block.content);
    const isError = block.is_error === true;
    const refused = this.denied.has(callId);
    if (call && !this.asked.has(callId) && !refused) {
      this.notice('warning', `${this.harness} ran ${call.name} ${callId} without asking for permission`);
    }
    if (call?.name === 'Bash' && !refused) {
      const command = (call.input as { command?: unknown } | null)?.command;
      const output = bashOutput(isError ? null : structured, text);
      this.emit({
        type: 'command',
        callId,
        argv: ['bash', '-c', typeof command === 'string' ? command : ''],
        cwd: this.host.workspace,
        exitCode: bashExitCode(text, isError),
        output: clip(output, MAX_TEXT_CHARS),
      });
    }
    const path = call && FILE_WRITING_TOOLS.has(call.name) ? claudeToolPath(call.input) : null;
    if (call && path && !isError && !refused) {
      const after = this.readFile(path);
      const shown = displayPath(this.host.workspace, resolve(this.host.workspace, path));
      if (after !== null && after !== call.before) {
        this.emit({ type: 'file_change', path: shown, diff: unifiedDiff(shown, call.before, after) });
      }
    }
    const output = refused ? `permission denied: ${this.denied.get(callId)}` : text;
    this.emit({ type: 'tool_result', callId, output: clip(output, MAX_TEXT_CHARS), isError });
  }

  private readFile(path: string): string | null {
    try {
      return readFileSync(resolve(this.host.workspace, path), 'utf8');
    } catch {
      return null;
    }
  }
}

function counts(usage: ClaudeUsage | null | undefined): Omit<PendingUsage, 'model'> {
  return {
    input: usage?.input_tokens ?? 0,
    cacheCreation: usage?.cache_creation_input_tokens ?? 0,
    cacheRead: usage?.cache_read_input_tokens ?? 0,
    output: usage?.output_tokens ?? 0,
  };
}
