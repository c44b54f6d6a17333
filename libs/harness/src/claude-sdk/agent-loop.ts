import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  query as sdkQuery,
  type CanUseTool,
  type Options,
  type PermissionResult,
  type Query,
  type SDKUserMessage,
} from '@anthropic-ai/claude-agent-sdk';
import type { HarnessEvent, PermissionDecision, TurnInput, TurnOutcome } from '../adapter';
import { claudeEnv } from '../claude-code/adapter';
import { ClaudeTurnMapper } from '../claude-code/mapper';
import { signalAll } from '../claude-code/process';
import { ClaudeLine, type ClaudeMessage } from '../claude-code/protocol';
import { claudeMcpConfig, claudeToolKind, claudeToolNames } from '../claude-code/tools';
import { descendantsOf } from '../codex/cli-process';
import type { HostedLoop, HostedLoopContext } from '../host/host-process';
import { inheritedNetworkEnv } from '../launch';
import { contentToText } from '../yoke/agent-loop';
import { clip } from '../yoke/diff';
import { resolveModel } from '../yoke/providers';

/** What the adapter passes to the agent process on its command line (never secrets). */
export interface ClaudeSdkLoopConfig {
  /** How long an interrupt may take before the CLI is closed (and resumed on the next turn). */
  cancelGraceMs: number;
  /** Retries of a failed model call inside the CLI. */
  maxRetries: number;
}

interface Turn {
  input: TurnInput;
  mapper: ClaudeTurnMapper;
  cancelled: boolean;
  resolve: (outcome: TurnOutcome) => void;
  reject: (error: Error) => void;
  /** Processes under this agent process when the turn began: anything newer is the turn's and dies with a cancel. */
  before: Set<number>;
  killTimer: NodeJS.Timeout | null;
  /** Permission requests still waiting for the hook, answered `deny` by a cancel. */
  waiting: Set<(decision: PermissionDecision) => void>;
}

/** Prompts for the SDK's streaming input: one per turn, until the loop closes. */
class PromptQueue implements AsyncIterable<SDKUserMessage> {
  private readonly queued: SDKUserMessage[] = [];
  private wake: (() => void) | null = null;
  private ended = false;

  push(message: SDKUserMessage): void {
    this.queued.push(message);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SDKUserMessage> {
    for (;;) {
      const next = this.queued.shift();
      if (next) {
        yield next;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = null;
    }
  }
}

/**
 * A YAML agent on the Claude Agent SDK (`@anthropic-ai/claude-agent-sdk`), which runs its own Claude Code binary.
 * Every tool call is gated: a PreToolUse hook answers `ask`, which makes the SDK call `canUseTool` whatever the
 * CLI's own rules would allow, and `canUseTool` asks the permission hook. The SDK yields the same messages as the
 * CLI's stream-json, so the item mapping is Claude Code's.
 */
export class ClaudeSdkLoop implements HostedLoop {
  private query: Query | null = null;
  private prompts: PromptQueue | null = null;
  private turn: Turn | null = null;
  private sessionId: string | null;
  private closing = false;
  private stderr = '';
  private readonly model: string;
  private readonly sessionFile: string;

  private constructor(
    private readonly ctx: HostedLoopContext,
    private readonly config: ClaudeSdkLoopConfig,
  ) {
    this.model = resolveModel(ctx.options.agent, ctx.options.model);
    const dir = join(ctx.options.stateDir, 'claude-sdk');
    mkdirSync(dir, { recursive: true });
    this.sessionFile = join(dir, 'session.json');
    this.sessionId = readSessionId(this.sessionFile);
  }

  static async start(ctx: HostedLoopContext, config: ClaudeSdkLoopConfig): Promise<ClaudeSdkLoop> {
    const loop = new ClaudeSdkLoop(ctx, config);
    await loop.open();
    return loop;
  }

  async runTurn(input: TurnInput): Promise<TurnOutcome> {
    if (this.closing) throw new Error('claude-sdk is not running');
    if (this.turn) throw new Error('a turn is already running in this session');
    if (!this.query) await this.open();
    const prompts = this.prompts as PromptQueue;
    return new Promise<TurnOutcome>((resolve, reject) => {
      this.turn = {
        input,
        mapper: new ClaudeTurnMapper(
          {
            workspace: this.ctx.options.workspace,
            model: this.model,
            emit: (event) => this.emit(event),
            harness: 'claude-sdk',
          },
          input.turnId,
        ),
        cancelled: false,
        resolve,
        reject,
        before: new Set(descendantsOf(process.pid)),
        killTimer: null,
        waiting: new Set(),
      };
      prompts.push({
        type: 'user',
        message: { role: 'user', content: contentToText(input.content) },
        parent_tool_use_id: null,
      });
    });
  }

  cancel(): void {
    const turn = this.turn;
    const query = this.query;
    if (!turn || turn.cancelled || !query) return;
    turn.cancelled = true;
    for (const answer of turn.waiting) answer({ behavior: 'deny', reason: 'the turn was cancelled' });
    turn.waiting.clear();
    query.interrupt().catch(() => undefined);
    // An interrupt that does not end the turn in time: close the CLI; the next turn resumes the conversation.
    turn.killTimer = setTimeout(() => {
      if (this.turn !== turn) return;
      this.drop(query);
      this.settle(turn, { stopReason: 'cancelled' });
    }, this.config.cancelGraceMs);
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.query) this.drop(this.query);
    if (this.turn) this.settle(this.turn, { stopReason: 'cancelled' });
    signalAll(null, descendantsOf(process.pid), 'SIGKILL');
  }

  /** Starts the SDK's query (its Claude Code process), resuming the saved conversation when there is one. */
  private async open(): Promise<void> {
    const { options } = this.ctx;
    const { agent } = options;
    const home = process.env.HOME ?? options.stateDir;
    mkdirSync(join(home, '.claude'), { recursive: true });
    const prompts = new PromptQueue();
    const gate = async (): Promise<Record<string, unknown>> => ({
      hookSpecificOutput: {
        hookEventName: 'PreToolUse',
        // `ask` sends every call to canUseTool, whatever the CLI's own rules would allow.
        permissionDecision: this.turn && !this.turn.cancelled ? 'ask' : 'deny',
        permissionDecisionReason: 'Yoke checks every tool call',
      },
    });
    const sdkOptions: Options = {
      cwd: options.workspace,
      // The SDK replaces the CLI's environment: the sandbox's egress proxy and CA settings must be passed on.
      env: {
        ...claudeEnv(home, options.provider, this.config.maxRetries),
        ...inheritedNetworkEnv(process.env, { node: false }),
      },
      model: this.model,
      systemPrompt: { type: 'preset', preset: 'claude_code', append: agent.prompt },
      tools: claudeToolNames(agent.tools),
      mcpServers: claudeMcpConfig(agent.tools.mcp).mcpServers as Options['mcpServers'],
      strictMcpConfig: true,
      settingSources: [],
      permissionMode: 'default',
      maxTurns: agent.maxSteps,
      includePartialMessages: true,
      canUseTool: this.canUseTool,
      hooks: { PreToolUse: [{ hooks: [gate] }] },
      stderr: (data) => {
        this.stderr = (this.stderr + data).slice(-4000);
      },
      ...(this.sessionId ? { resume: this.sessionId } : {}),
    };
    const query = sdkQuery({ prompt: prompts, options: sdkOptions });
    this.query = query;
    this.prompts = prompts;
    void this.consume(query);
  }

  private async consume(query: Query): Promise<void> {
    let failure: Error | null = null;
    try {
      for await (const raw of query) {
        if (this.query !== query) return;
        this.onMessage(raw);
      }
    } catch (e) {
      failure = e as Error;
    }
    if (this.query !== query) return;
    this.query = null;
    this.prompts = null;
    const turn = this.turn;
    if (!turn) return;
    if (turn.cancelled || this.closing) this.settle(turn, { stopReason: 'cancelled' });
    else {
      const detail = failure?.message ?? 'it stopped';
      const tail = this.stderr.trim() ? `: ${clip(this.stderr.trim(), 2000)}` : '';
      this.settle(turn, null, new Error(`claude-sdk ended (${detail})${tail}`));
    }
  }

  private onMessage(raw: unknown): void {
    const parsed = ClaudeLine.safeParse(raw);
    if (!parsed.success) return; // messages the mapping does not read (status, hook events, …)
    const message = parsed.data;
    if (message.type === 'system' && message.subtype === 'init' && message.session_id) this.onInit(message.session_id);
    const turn = this.turn;
    if (!turn) return;
    if (!['system', 'assistant', 'user', 'stream_event', 'result'].includes(message.type)) return;
    const result = turn.mapper.handle(message as ClaudeMessage);
    if (!result) return;
    const outcome = turn.mapper.outcome(result, turn.cancelled);
    if (outcome instanceof Error) this.settle(turn, null, outcome);
    else this.settle(turn, outcome);
  }

  private readonly canUseTool: CanUseTool = async (toolName, input, { toolUseID }): Promise<PermissionResult> => {
    const turn = this.turn;
    if (!turn || turn.cancelled) return { behavior: 'deny', message: 'permission denied: no turn is running' };
    turn.mapper.announce(toolUseID, toolName, input);
    turn.mapper.asked.add(toolUseID);
    turn.mapper.denied.set(toolUseID, 'refused'); // until the hook allows it
    const decision = await new Promise<PermissionDecision>((resolve) => {
      const answer = (d: PermissionDecision): void => {
        if (!turn.waiting.delete(answer)) return;
        resolve(d);
      };
      turn.waiting.add(answer);
      this.ctx
        .permission({ callId: toolUseID, tool: claudeToolKind(toolName), nativeTool: toolName, input })
        .then(answer, (e: unknown) =>
          answer({ behavior: 'deny', reason: `permission check failed: ${(e as Error).message}` }),
        );
    });
    if (decision.behavior === 'allow' && !turn.cancelled) {
      turn.mapper.denied.delete(toolUseID);
      return { behavior: 'allow', updatedInput: input };
    }
    const reason = decision.behavior === 'deny' ? decision.reason : 'the turn was cancelled';
    turn.mapper.denied.set(toolUseID, reason);
    return { behavior: 'deny', message: `permission denied: ${reason}` };
  };

  private onInit(sessionId: string): void {
    if (sessionId === this.sessionId) return;
    this.sessionId = sessionId;
    try {
      writeFileSync(this.sessionFile, JSON.stringify({ sessionId }));
    } catch (e) {
      this.notice('warning', `claude-sdk: could not save the session id: ${(e as Error).message}`);
    }
  }

  /** Closes a query whose turn is over (or stuck); its CLI and everything under it go. */
  private drop(query: Query): void {
    if (this.query === query) {
      this.query = null;
      this.prompts?.end();
      this.prompts = null;
    }
    try {
      query.close();
    } catch {
      // already closed
    }
  }

  private notice(level: 'info' | 'warning' | 'error', text: string): void {
    this.emit({ kind: 'item', item: { type: 'notice', level, text: clip(text, 4000) } });
  }

  private emit(event: HarnessEvent): void {
    this.ctx.onEvent(event);
  }

  private settle(turn: Turn, outcome: TurnOutcome | null, error?: Error): void {
    if (this.turn !== turn) return;
    this.turn = null;
    if (turn.killTimer) clearTimeout(turn.killTimer);
    if (turn.cancelled) {
      // Whatever the turn started and the interrupt left behind (a backgrounded command) ends with it.
      signalAll(
        null,
        descendantsOf(process.pid).filter((pid) => !turn.before.has(pid)),
        'SIGKILL',
      );
    }
    if (outcome) turn.resolve(outcome);
    else turn.reject(error ?? new Error('turn failed'));
  }
}

function readSessionId(file: string): string | null {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { sessionId?: unknown };
    return typeof parsed.sessionId === 'string' ? parsed.sessionId : null;
  } catch {
    return null;
  }
}
