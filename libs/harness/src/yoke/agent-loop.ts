import { randomUUID } from 'node:crypto';
import { MAX_TEXT_CHARS, type ContentPart, type ItemBody, type ToolKind } from '@yoke/protocol';
import { z } from 'zod';
import type {
  DelegateRequest,
  DelegateResult,
  HarnessSession,
  HarnessStartOptions,
  PermissionDecision,
  PermissionRequest,
  TurnInput,
  TurnOutcome,
} from '../adapter';
import { clip } from './diff';
import type { ModelClient, ModelMessage, ModelStopReason, ModelToolCall, ModelUsage } from './model';
import { costUsd } from './pricing';
import { createModelClient, resolveModel, selectProvider } from './providers';
import { DEFAULT_SHELL_TIMEOUT_MS } from './shell';
import { buildTools, delegateTool, toolError, toolSpecs, type ToolOutcome, type YokeTool } from './tools';
import { loadTranscript, saveTranscript } from './transcript';

export interface AgentLoopOptions extends HarnessStartOptions {
  /** Per shell command; default two minutes. */
  shellTimeoutMs?: number;
  maxOutputTokens?: number;
}

interface ModelReply {
  text: string;
  toolCalls: ModelToolCall[];
  stopReason: ModelStopReason;
  usage: ModelUsage | null;
  cancelled: boolean;
}

const CANCELLED: TurnOutcome = { stopReason: 'cancelled' };

/** Flattens a prompt's content parts into the text the model reads. */
export function contentToText(content: ContentPart[]): string {
  return content
    .map((part) => {
      if (part.type === 'text') return part.text;
      return part.content === undefined
        ? `[attached file: ${part.path}]`
        : `<file path="${part.path}">\n${part.content}\n</file>`;
    })
    .join('\n\n');
}

/**
 * Yoke's own agent loop for YAML agents: one model call per step, tools run in the workspace after the
 * permission hook allows them, the transcript saved to `stateDir` after every step.
 */
export class AgentLoop implements HarnessSession {
  private controller: AbortController | null = null;
  /** Messages steered into the running turn that the model has not read yet. */
  private steered: string[] = [];
  private readonly tools: YokeTool[];
  private readonly system: string;

  private constructor(
    private readonly options: AgentLoopOptions,
    private readonly model: string,
    private readonly client: ModelClient,
    private readonly messages: ModelMessage[],
  ) {
    this.tools = buildTools(options.agent.tools);
    if (Object.keys(options.agent.agents).length > 0) this.tools.push(delegateTool(options.agent.agents) as YokeTool);
    this.system =
      `${options.agent.prompt}\n\n` +
      `You are working in the directory ${options.workspace}; file paths in tools are relative to it.`;
  }

  /** Resolves the model and provider, and loads the saved transcript so the conversation continues. */
  static async start(options: AgentLoopOptions): Promise<AgentLoop> {
    const model = resolveModel(options.agent, options.model);
    const client = createModelClient(selectProvider(model, options.agent.provider), options.provider);
    const loaded = await loadTranscript(options.stateDir);
    if (loaded.warning)
      options.onEvent({ kind: 'item', item: { type: 'notice', level: 'warning', text: loaded.warning } });
    return new AgentLoop(options, model, client, loaded.messages);
  }

  /** The conversation so far (a copy). */
  get transcript(): ModelMessage[] {
    return structuredClone(this.messages);
  }

  async runTurn(input: TurnInput): Promise<TurnOutcome> {
    if (this.controller) throw new Error('a turn is already running in this session');
    const controller = new AbortController();
    this.controller = controller;
    const { signal } = controller;
    try {
      this.messages.push({ role: 'user', text: contentToText(input.content) });
      await this.save();
      for (let step = 0; step < this.options.agent.maxSteps; step++) {
        if (signal.aborted) return CANCELLED;
        if (this.steered.length > 0) {
          // Messages that arrived while the turn ran: the next model call reads them after what came before.
          for (const text of this.steered.splice(0)) this.messages.push({ role: 'user', text });
          await this.save();
        }
        const reply = await this.callModel(input.turnId, signal);
        if (reply.text || reply.toolCalls.length > 0) {
          this.messages.push({ role: 'assistant', text: reply.text, toolCalls: reply.toolCalls });
        }
        if (reply.usage) this.emitUsage(reply.usage);
        await this.save();
        if (reply.cancelled) return CANCELLED;
        // A message steered in while the model answered gets its answer in this turn.
        if (reply.toolCalls.length === 0 && this.steered.length === 0)
          return { stopReason: reply.stopReason === 'refusal' ? 'refusal' : 'end_turn' };

        for (const call of reply.toolCalls) {
          const result = signal.aborted
            ? toolError('not run: the turn was cancelled')
            : await this.runToolCall(call, input.turnId, signal);
          this.messages.push({
            role: 'tool_result',
            callId: call.id,
            toolName: call.name,
            output: result.output,
            isError: result.isError,
          });
        }
        await this.save();
        if (signal.aborted) return CANCELLED;
      }
      return { stopReason: 'max_turns' };
    } finally {
      this.controller = null;
      this.steered = [];
    }
  }

  cancel(): void {
    this.controller?.abort();
  }

  /**
   * Takes a message into the running turn: the model reads it at its next call, and the turn does not end before.
   * False when no turn runs (or it was cancelled): the decision to end a turn and this check never interleave.
   */
  async steer(input: TurnInput): Promise<boolean> {
    if (!this.controller || this.controller.signal.aborted) return false;
    this.steered.push(contentToText(input.content));
    return true;
  }

  async close(): Promise<void> {
    this.cancel();
  }

  private emit(item: ItemBody): void {
    this.options.onEvent({ kind: 'item', item });
  }

  private emitUsage(usage: ModelUsage): void {
    this.emit({ type: 'usage', model: this.model, ...usage, costUsd: costUsd(this.model, usage) });
  }

  private async save(): Promise<void> {
    await saveTranscript(this.options.stateDir, this.messages);
  }

  /** One streamed model call; text is streamed as deltas and each finished text block becomes an agent_message. */
  private async callModel(turnId: string, signal: AbortSignal): Promise<ModelReply> {
    const streamIds = new Map<string, string>();
    const partial = new Map<string, string>();
    const texts: string[] = [];
    const reply: ModelReply = { text: '', toolCalls: [], stopReason: 'end_turn', usage: null, cancelled: false };
    const streamIdOf = (blockId: string): string => {
      let id = streamIds.get(blockId);
      if (!id) streamIds.set(blockId, (id = randomUUID()));
      return id;
    };
    const request = {
      model: this.model,
      system: this.system,
      messages: this.messages,
      tools: toolSpecs(this.tools),
      maxOutputTokens: this.options.maxOutputTokens,
    };
    try {
      for await (const event of this.client.stream(request, signal)) {
        if (event.type === 'text_delta') {
          partial.set(event.blockId, (partial.get(event.blockId) ?? '') + event.text);
          const streamId = streamIdOf(event.blockId);
          this.options.onEvent({
            kind: 'delta',
            delta: { type: 'agent_message_delta', turnId, streamId, text: event.text },
          });
        } else if (event.type === 'text_done') {
          partial.delete(event.blockId);
          texts.push(event.text);
          this.emit({
            type: 'agent_message',
            text: clip(event.text, MAX_TEXT_CHARS),
            streamId: streamIdOf(event.blockId),
          });
        } else if (event.type === 'tool_call') {
          reply.toolCalls.push(event.call);
        } else {
          reply.stopReason = event.stopReason;
          reply.usage = event.usage;
        }
      }
    } catch (e) {
      if (!signal.aborted) throw e;
      // Cancelled mid-stream: what the user already saw is kept, as a finished message and in the transcript.
      for (const [blockId, text] of partial) {
        if (!text) continue;
        texts.push(text);
        this.emit({ type: 'agent_message', text: clip(text, MAX_TEXT_CHARS), streamId: streamIdOf(blockId) });
      }
      reply.toolCalls = [];
      reply.cancelled = true;
    }
    reply.text = texts.join('\n\n');
    return reply;
  }

  private async runToolCall(call: ModelToolCall, turnId: string, signal: AbortSignal): Promise<ToolOutcome> {
    const tool = this.tools.find((t) => t.name === call.name);
    const kind: ToolKind = tool?.kind ?? `other:${call.name || 'unknown'}`;
    const input = z.json().safeParse(call.input).success ? call.input : String(call.input);
    this.emit({ type: 'tool_call', callId: call.id, tool: kind, nativeTool: call.name, input, status: 'pending' });
    const finish = (outcome: ToolOutcome): ToolOutcome => {
      const output = clip(outcome.output, MAX_TEXT_CHARS);
      this.emit({ type: 'tool_result', callId: call.id, output, isError: outcome.isError });
      return { output, isError: outcome.isError };
    };

    if (!tool) {
      const names = this.tools.map((t) => t.name).join(', ') || 'none';
      return finish(toolError(`unknown tool "${call.name}"; available tools: ${names}`));
    }
    const parsed = tool.input.safeParse(call.input);
    if (!parsed.success) return finish(toolError(`invalid input for ${tool.name}: ${z.prettifyError(parsed.error)}`));

    const decision = await this.askPermission({ callId: call.id, tool: kind, nativeTool: call.name, input }, signal);
    if (decision === null) return finish(toolError('not run: the turn was cancelled'));
    if (decision.behavior === 'deny') return finish(toolError(`permission denied: ${decision.reason}`));

    const streamId = randomUUID();
    let outcome: ToolOutcome;
    try {
      outcome = await tool.run(parsed.data, {
        workspace: this.options.workspace,
        signal,
        shellTimeoutMs: this.options.shellTimeoutMs ?? DEFAULT_SHELL_TIMEOUT_MS,
        onOutput: (text) =>
          this.options.onEvent({
            kind: 'delta',
            delta: { type: 'command_output_delta', turnId, streamId, callId: call.id, text },
          }),
        callId: call.id,
        delegate: this.options.delegate ? (request) => this.delegate(request, signal) : undefined,
      });
    } catch (e) {
      outcome = toolError(`${tool.name} failed: ${(e as Error).message}`);
    }
    if (outcome.command) {
      this.emit({
        type: 'command',
        callId: call.id,
        ...outcome.command,
        output: clip(outcome.command.output, MAX_TEXT_CHARS),
      });
    }
    if (outcome.fileChange) this.emit({ type: 'file_change', ...outcome.fileChange });
    return finish(outcome);
  }

  /** Runs a sub-agent through the host; a cancelled turn stops waiting (the child session keeps its own course). */
  private async delegate(request: DelegateRequest, signal: AbortSignal): Promise<DelegateResult> {
    const hook = this.options.delegate;
    if (!hook) return { ok: false, error: 'delegation is not available in this session' };
    if (signal.aborted) return { ok: false, error: 'not run: the turn was cancelled' };
    let onAbort = (): void => undefined;
    const aborted = new Promise<DelegateResult>((resolve) => {
      onAbort = () => resolve({ ok: false, error: 'the turn was cancelled while the sub-agent ran' });
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([
        hook(request).catch((e: unknown): DelegateResult => ({ ok: false, error: (e as Error).message })),
        aborted,
      ]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Asks the permission hook; null when the turn is cancelled while waiting. A failing hook denies. */
  private async askPermission(request: PermissionRequest, signal: AbortSignal): Promise<PermissionDecision | null> {
    if (signal.aborted) return null;
    let onAbort = (): void => undefined;
    const aborted = new Promise<null>((resolve) => {
      onAbort = () => resolve(null);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([
        this.options.permission(request).catch((e: unknown): PermissionDecision => ({
          behavior: 'deny',
          reason: `permission check failed: ${(e as Error).message}`,
        })),
        aborted,
      ]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}

/** Starts an in-process session of the built-in `yoke` harness (the child process runs the same loop). */
export function startAgentLoop(options: AgentLoopOptions): Promise<AgentLoop> {
  return AgentLoop.start(options);
}
