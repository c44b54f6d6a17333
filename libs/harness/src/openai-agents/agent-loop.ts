import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Agent,
  type AgentInputItem,
  OpenAIProvider,
  Runner,
  type RunStreamEvent,
  setTracingDisabled,
  tool,
  type Tool,
} from '@openai/agents';
import { MAX_TEXT_CHARS, type ItemBody } from '@yoke/protocol';
import type { TurnInput, TurnOutcome } from '../adapter';
import type { HostedLoop, HostedLoopContext } from '../host/host-process';
import { missingModelKeyError } from '../model-keys';
import { contentToText } from '../yoke/agent-loop';
import { clip } from '../yoke/diff';
import { costUsd } from '../yoke/pricing';
import { OPENAI_DEFAULT_BASE_URL, resolveModel, selectProvider } from '../yoke/providers';
import { DEFAULT_SHELL_TIMEOUT_MS } from '../yoke/shell';
import { buildTools, toolError, toolSpecs, type YokeTool } from '../yoke/tools';

/** The most model calls one turn may make before it stops. */
const MAX_TURNS = 50;

interface ActiveTurn {
  input: TurnInput;
  controller: AbortController;
  /** The stream id of the model response being received (deltas and its final message share it). */
  streamId: string;
}

/**
 * A YAML agent on the OpenAI Agents SDK: the agent's prompt and Yoke's own tool implementations (shell and files,
 * as its `tools:` allows) run through the SDK's runner against OPENAI_BASE_URL. Every tool call is announced, then
 * asked of the permission hook inside the tool itself, so no path of the SDK can run a tool without an `allow`.
 * The conversation is saved in the state directory after every turn, so a new session continues it.
 */
export class OpenAIAgentsLoop implements HostedLoop {
  private turn: ActiveTurn | null = null;
  private readonly runner: Runner;
  private readonly agent: Agent;
  private readonly model: string;

  private constructor(
    private readonly ctx: HostedLoopContext,
    private history: AgentInputItem[],
    private readonly historyFile: string,
  ) {
    const { options } = ctx;
    this.model = resolveModel(options.agent, options.model);
    const kind = selectProvider(this.model, options.agent.provider);
    const baseURL = options.provider.openaiBaseUrl || OPENAI_DEFAULT_BASE_URL;
    if (baseURL === OPENAI_DEFAULT_BASE_URL && !options.provider.openaiApiKey) {
      throw missingModelKeyError('OPENAI_API_KEY');
    }
    setTracingDisabled(true);
    this.runner = new Runner({
      modelProvider: new OpenAIProvider({
        baseURL,
        apiKey: options.provider.openaiApiKey || 'yoke-no-key',
        // The Agents SDK speaks the OpenAI APIs only: anything not explicitly Responses goes over Chat Completions.
        useResponses: kind === 'openai-responses',
      }),
      tracingDisabled: true,
      traceIncludeSensitiveData: false,
    });
    this.agent = new Agent({
      name: options.agent.name,
      instructions: options.agent.prompt,
      model: this.model,
      tools: buildTools(options.agent.tools).map((t) => this.sdkTool(t)),
    });
  }

  static async start(ctx: HostedLoopContext): Promise<OpenAIAgentsLoop> {
    const dir = join(ctx.options.stateDir, 'openai-agents');
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'history.json');
    return new OpenAIAgentsLoop(ctx, await loadHistory(file), file);
  }

  async runTurn(input: TurnInput): Promise<TurnOutcome> {
    if (this.turn) throw new Error('a turn is already running in this session');
    const turn: ActiveTurn = { input, controller: new AbortController(), streamId: randomUUID() };
    this.turn = turn;
    const prompt: AgentInputItem = { role: 'user', content: contentToText(input.content) };
    try {
      const result = await this.runner.run(this.agent, [...this.history, prompt], {
        stream: true,
        signal: turn.controller.signal,
        maxTurns: MAX_TURNS,
      });
      for await (const event of result) this.onStreamEvent(turn, event);
      await result.completed;
      if (turn.controller.signal.aborted) return await this.cancelled(prompt);
      if (result.error) throw result.error;
      this.history = result.history;
      await this.saveHistory();
      return { stopReason: 'end_turn' };
    } catch (e) {
      if (turn.controller.signal.aborted) return await this.cancelled(prompt);
      throw new Error(describeError(e), { cause: e });
    } finally {
      this.turn = null;
    }
  }

  cancel(): void {
    this.turn?.controller.abort();
  }

  /** A cancelled turn keeps the prompt in the conversation, so the next turn knows what was asked. */
  private async cancelled(prompt: AgentInputItem): Promise<TurnOutcome> {
    this.history = [...this.history, prompt];
    await this.saveHistory();
    return { stopReason: 'cancelled' };
  }

  private emit(item: ItemBody): void {
    this.ctx.onEvent({ kind: 'item', item });
  }

  private onStreamEvent(turn: ActiveTurn, event: RunStreamEvent): void {
    const turnId = turn.input.turnId;
    if (event.type === 'raw_model_stream_event') {
      const data = event.data;
      if (data.type === 'response_started') turn.streamId = randomUUID();
      else if (data.type === 'output_text_delta' && data.delta) {
        this.ctx.onEvent({
          kind: 'delta',
          delta: { type: 'agent_message_delta', turnId, streamId: turn.streamId, text: data.delta },
        });
      } else if (data.type === 'response_done') {
        const usage = data.response.usage;
        const cached = cachedTokens(usage.inputTokensDetails);
        const counts = { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, cachedTokens: cached };
        this.emit({ type: 'usage', model: this.model, ...counts, costUsd: costUsd(this.model, counts) });
      }
      return;
    }
    if (event.type === 'run_item_stream_event' && event.name === 'message_output_created') {
      const raw = event.item.rawItem as { content?: { type: string; text?: string; refusal?: string }[] };
      const text = (raw.content ?? [])
        .map((part) =>
          part.type === 'output_text' ? (part.text ?? '') : part.type === 'refusal' ? (part.refusal ?? '') : '',
        )
        .join('');
      if (text) this.emit({ type: 'agent_message', text: clip(text, MAX_TEXT_CHARS), streamId: turn.streamId });
    }
  }

  /** A Yoke tool as an SDK function tool, gated by the permission hook. */
  private sdkTool(yokeTool: YokeTool): Tool {
    const [spec] = toolSpecs([yokeTool]);
    return tool({
      name: spec.name,
      description: spec.description,
      parameters: { type: 'object', properties: {}, ...spec.parameters, additionalProperties: true } as never,
      strict: false,
      errorFunction: (_context, error) => `tool failed: ${describeError(error)}`,
      execute: async (raw: unknown, _context, details) =>
        this.runTool(yokeTool, raw, details?.toolCall?.callId ?? randomUUID()),
    });
  }

  private async runTool(yokeTool: YokeTool, raw: unknown, callId: string): Promise<string> {
    const turn = this.turn;
    if (!turn) return 'not run: no turn is running';
    const input = JSON.parse(JSON.stringify(raw ?? null)) as unknown;
    this.emit({ type: 'tool_call', callId, tool: yokeTool.kind, nativeTool: yokeTool.name, input, status: 'pending' });
    const finish = (output: string, isError: boolean): string => {
      const clipped = clip(output, MAX_TEXT_CHARS);
      this.emit({ type: 'tool_result', callId, output: clipped, isError });
      return clipped;
    };
    let decision;
    try {
      decision = await this.ctx.permission({ callId, tool: yokeTool.kind, nativeTool: yokeTool.name, input });
    } catch (e) {
      decision = { behavior: 'deny' as const, reason: `permission check failed: ${(e as Error).message}` };
    }
    if (turn.controller.signal.aborted) return finish('not run: the turn was cancelled', true);
    if (decision.behavior !== 'allow') return finish(`permission denied: ${decision.reason}`, true);
    const parsed = yokeTool.input.safeParse(raw);
    if (!parsed.success) return finish(toolError(`invalid input: ${parsed.error.message}`).output, true);
    try {
      const outcome = await yokeTool.run(parsed.data, {
        workspace: this.ctx.options.workspace,
        signal: turn.controller.signal,
        shellTimeoutMs: this.ctx.options.shellTimeoutMs ?? DEFAULT_SHELL_TIMEOUT_MS,
        onOutput: (text) =>
          this.ctx.onEvent({
            kind: 'delta',
            delta: { type: 'command_output_delta', turnId: turn.input.turnId, streamId: callId, callId, text },
          }),
      });
      if (outcome.command) {
        this.emit({
          type: 'command',
          callId,
          ...outcome.command,
          output: clip(outcome.command.output, MAX_TEXT_CHARS),
        });
      }
      if (outcome.fileChange) this.emit({ type: 'file_change', ...outcome.fileChange });
      return finish(outcome.output, outcome.isError);
    } catch (e) {
      return finish(`tool failed: ${(e as Error).message}`, true);
    }
  }

  private async saveHistory(): Promise<void> {
    const tmp = `${this.historyFile}.tmp`;
    await writeFile(tmp, JSON.stringify(this.history));
    await rename(tmp, this.historyFile);
  }
}

async function loadHistory(file: string): Promise<AgentInputItem[]> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as unknown;
    return Array.isArray(parsed) ? (parsed as AgentInputItem[]) : [];
  } catch {
    return [];
  }
}

function cachedTokens(details: Record<string, number> | Record<string, number>[] | undefined): number {
  const list = Array.isArray(details) ? details : details ? [details] : [];
  return list.reduce((sum, d) => sum + (d.cached_tokens ?? d.cachedTokens ?? 0), 0);
}

function describeError(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
