import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import {
  client,
  type ClientConnection,
  methods,
  ndJsonStream,
  PROTOCOL_VERSION,
  type RequestPermissionRequest,
  type RequestPermissionResponse,
  type SessionConfigOption,
  type SessionNotification,
  type ToolCallContent,
  type ToolCallUpdate,
} from '@agentclientprotocol/sdk/unstable';
import { MAX_TEXT_CHARS, type ItemBody } from '@yoke/protocol';
import type { PermissionDecision, TurnInput, TurnOutcome } from '../adapter';
import { descendantsOf } from '../codex/cli-process';
import type { HostedLoop, HostedLoopContext } from '../host/host-process';
import { inheritedNetworkEnv } from '../launch';
import { contentToText } from '../yoke/agent-loop';
import { clip } from '../yoke/diff';
import { costUsd } from '../yoke/pricing';
import { acpToolKind } from './tools';

/** How long a cancelled turn may take to end before the agent is restarted. */
const CANCEL_GRACE_MS = 3000;
const STDERR_TAIL = 4000;

interface Turn {
  input: TurnInput;
  cancelled: boolean;
  streamId: string;
  /** Tool calls announced, asked about, refused (with the reason), and finished. */
  tools: Map<string, { kind: string; title: string; rawInput: unknown }>;
  announced: Set<string>;
  asked: Set<string>;
  denied: Map<string, string>;
  finished: Set<string>;
  /** Permission requests still waiting for the hook; answered `cancelled` on cancel. */
  waiting: Set<(response: RequestPermissionResponse) => void>;
  /** The cumulative session cost (USD) the agent had reported when the turn started. */
  costAtStart: number | null;
}

/** An ACP agent process and the client connection to it. */
interface AgentHandle {
  proc: ChildProcessWithoutNullStreams;
  connection: ClientConnection;
  sessionId: string;
  exited: Promise<void>;
  stderr: () => string;
}

/**
 * A generic Agent Client Protocol client: starts the agent command, opens one session in the workspace, sends each
 * turn as `session/prompt` and maps `session/update`s to Yoke events. `session/request_permission` goes to the
 * permission hook (a throwing hook or a missing reject option refuses). The client offers no file-system or terminal
 * methods, so the agent's tools run in its own process (inside the same sandbox).
 */
export class AcpClientLoop implements HostedLoop {
  private turn: Turn | null = null;
  private agentProc: AgentHandle | null = null;
  private model: string | null;
  private costSoFar: number | null = null;
  private closed = false;

  private constructor(
    private readonly ctx: HostedLoopContext,
    private readonly command: string[],
  ) {
    this.model = ctx.options.model ?? ctx.options.agent.model ?? null;
  }

  static async start(ctx: HostedLoopContext, command: string[]): Promise<AcpClientLoop> {
    const loop = new AcpClientLoop(ctx, command);
    loop.agentProc = await loop.startAgent();
    return loop;
  }

  async runTurn(input: TurnInput): Promise<TurnOutcome> {
    if (this.turn) throw new Error('a turn is already running in this session');
    const agentProc = this.agentProc ?? (this.agentProc = await this.startAgent());
    const turn: Turn = {
      input,
      cancelled: false,
      streamId: randomUUID(),
      tools: new Map(),
      announced: new Set(),
      asked: new Set(),
      denied: new Map(),
      finished: new Set(),
      waiting: new Set(),
      costAtStart: this.costSoFar,
    };
    this.turn = turn;
    try {
      const exited = agentProc.exited.then(() => {
        throw new Error(`the ACP agent exited${agentProc.stderr() ? `: ${agentProc.stderr()}` : ''}`);
      });
      const response = await Promise.race([
        agentProc.connection.agent.request(methods.agent.session.prompt, {
          sessionId: agentProc.sessionId,
          prompt: [{ type: 'text', text: contentToText(input.content) }],
        }),
        exited,
      ]);
      this.flushText(turn);
      if (response.usage) {
        const counts = {
          inputTokens: response.usage.inputTokens,
          outputTokens: response.usage.outputTokens,
          cachedTokens: response.usage.cachedReadTokens ?? 0,
        };
        const model = this.model ?? 'unknown';
        // The agent's own cost report wins over list prices.
        const reported = this.costSoFar === null ? null : this.costSoFar - (turn.costAtStart ?? 0);
        const cost = reported !== null && reported >= 0 ? reported : costUsd(model, counts);
        this.emit({ type: 'usage', model, ...counts, costUsd: cost });
      }
      if (turn.cancelled || response.stopReason === 'cancelled') return { stopReason: 'cancelled' };
      switch (response.stopReason) {
        case 'max_turn_requests':
          return { stopReason: 'max_turns' };
        case 'refusal':
          return { stopReason: 'refusal' };
        default:
          return { stopReason: 'end_turn' };
      }
    } catch (e) {
      if (turn.cancelled) return { stopReason: 'cancelled' };
      throw new Error(`ACP agent: ${(e as Error).message}`, { cause: e });
    } finally {
      this.turn = null;
    }
  }

  cancel(): void {
    const turn = this.turn;
    const agentProc = this.agentProc;
    if (!turn || turn.cancelled || !agentProc) return;
    turn.cancelled = true;
    for (const answer of turn.waiting) answer({ outcome: { outcome: 'cancelled' } });
    turn.waiting.clear();
    void agentProc.connection.agent.notify(methods.agent.session.cancel, { sessionId: agentProc.sessionId });
    // An agent that does not end the turn in time is stopped, with everything it started; the next turn restarts it.
    const timer = setTimeout(() => {
      if (this.turn === turn && this.agentProc === agentProc) {
        this.agentProc = null;
        killTree(agentProc.proc);
      }
    }, CANCEL_GRACE_MS);
    timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    const agentProc = this.agentProc;
    this.agentProc = null;
    if (!agentProc) return;
    agentProc.connection.close();
    agentProc.proc.stdin.end();
    killTree(agentProc.proc, 'SIGTERM');
    const timer = setTimeout(() => killTree(agentProc.proc), 1000);
    await agentProc.exited;
    clearTimeout(timer);
    killTree(agentProc.proc);
  }

  private async startAgent(): Promise<AgentHandle> {
    if (this.closed) throw new Error('the session is closed');
    const { options } = this.ctx;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? options.stateDir,
      LANG: process.env.LANG ?? 'C.UTF-8',
      // Inside a sandbox, the agent reaches the model only through the egress proxy this process was given.
      ...inheritedNetworkEnv(process.env, { node: true }),
    };
    const provider = options.provider;
    if (provider.openaiBaseUrl) env.OPENAI_BASE_URL = provider.openaiBaseUrl;
    if (provider.openaiApiKey) env.OPENAI_API_KEY = provider.openaiApiKey;
    if (provider.anthropicBaseUrl) env.ANTHROPIC_BASE_URL = provider.anthropicBaseUrl;
    if (provider.anthropicApiKey) env.ANTHROPIC_API_KEY = provider.anthropicApiKey;
    const [command, ...args] = this.command;
    const proc = spawn(command, args, { cwd: options.workspace, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (text: string) => {
      stderr = (stderr + text).slice(-STDERR_TAIL);
    });
    proc.stdin.on('error', () => undefined);
    const exited = new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.once('error', (e) => {
        stderr += e.message;
        resolve();
      });
    });
    const app = client({ name: 'yoke' })
      .onRequest(methods.client.session.requestPermission, ({ params }) => this.onPermission(params))
      .onNotification(methods.client.session.update, ({ params }) => this.onUpdate(params));
    const connection = app.connect(
      ndJsonStream(
        Writable.toWeb(proc.stdin) as WritableStream<Uint8Array>,
        Readable.toWeb(proc.stdout) as unknown as ReadableStream<Uint8Array>,
      ),
    );
    const handle: AgentHandle = { proc, connection, sessionId: '', exited, stderr: () => stderr.trim() };
    const gone = exited.then(() => {
      throw new Error(`the ACP agent exited while starting${stderr.trim() ? `: ${stderr.trim()}` : ''}`);
    });
    try {
      await Promise.race([this.openSession(handle), gone]);
    } catch (e) {
      killTree(proc);
      throw e;
    }
    return handle;
  }

  private async openSession(handle: AgentHandle): Promise<void> {
    const agent = handle.connection.agent;
    await agent.request(methods.agent.initialize, {
      protocolVersion: PROTOCOL_VERSION,
      clientCapabilities: { fs: { readTextFile: false, writeTextFile: false }, terminal: false },
      clientInfo: { name: 'yoke', title: 'Yoke', version: '0.1.0' },
    });
    const session = await agent.request(methods.agent.session.new, {
      cwd: this.ctx.options.workspace,
      mcpServers: [],
    });
    handle.sessionId = session.sessionId;
    await this.applyModel(handle, session.configOptions ?? []);
  }

  /** The session's model (override or the agent YAML's) through the agent's `model` config option, when it has one. */
  private async applyModel(handle: AgentHandle, configOptions: SessionConfigOption[]): Promise<void> {
    const option = configOptions.find((o) => o.category === 'model' && o.type === 'select');
    const wanted = this.ctx.options.model ?? this.ctx.options.agent.model;
    if (!option) {
      if (wanted) this.notice('warning', `this ACP agent offers no model option; "${wanted}" was not applied`);
      return;
    }
    if (!wanted || ('currentValue' in option && option.currentValue === wanted)) {
      if ('currentValue' in option && typeof option.currentValue === 'string') this.model = option.currentValue;
      return;
    }
    await handle.connection.agent.request(methods.agent.session.setConfigOption, {
      sessionId: handle.sessionId,
      configId: option.id,
      value: wanted,
    });
    this.model = wanted;
  }

  private emit(item: ItemBody): void {
    this.ctx.onEvent({ kind: 'item', item });
  }

  private notice(level: 'info' | 'warning' | 'error', text: string): void {
    this.emit({ type: 'notice', level, text: clip(text, 4000) });
  }

  private announce(turn: Turn, update: ToolCallUpdate): void {
    const id = update.toolCallId;
    const known = turn.tools.get(id);
    const tool = {
      kind: update.kind ?? known?.kind ?? 'other',
      title: update.title ?? known?.title ?? '',
      rawInput: update.rawInput ?? known?.rawInput ?? {},
    };
    turn.tools.set(id, tool);
    if (turn.announced.has(id)) return;
    turn.announced.add(id);
    this.emit({
      type: 'tool_call',
      callId: id,
      tool: acpToolKind(tool.kind),
      nativeTool: tool.kind,
      input: JSON.parse(JSON.stringify({ title: tool.title, ...asRecord(tool.rawInput) })) as unknown,
      status: 'pending',
    });
  }

  private async onPermission(params: RequestPermissionRequest): Promise<RequestPermissionResponse> {
    const turn = this.turn;
    if (!turn || turn.cancelled) return { outcome: { outcome: 'cancelled' } };
    this.announce(turn, params.toolCall);
    const id = params.toolCall.toolCallId;
    const tool = turn.tools.get(id);
    turn.asked.add(id);
    const cancelled = new Promise<null>((resolve) => turn.waiting.add(() => resolve(null)));
    const asking = this.ctx
      .permission({
        callId: id,
        tool: acpToolKind(tool?.kind),
        nativeTool: tool?.kind ?? 'other',
        input: JSON.parse(JSON.stringify({ title: tool?.title ?? '', ...asRecord(tool?.rawInput) })) as unknown,
      })
      .catch((e: unknown): PermissionDecision => ({
        behavior: 'deny',
        reason: `permission check failed: ${(e as Error).message}`,
      }));
    const decision = await Promise.race([asking, cancelled]);
    if (!decision || turn.cancelled || this.turn !== turn) return { outcome: { outcome: 'cancelled' } };
    // Once only: "always" options would let later calls skip the hook.
    const pick = (kind: 'allow_once' | 'reject_once') => params.options.find((o) => o.kind === kind);
    if (decision.behavior === 'allow') {
      const allow = pick('allow_once');
      if (allow) return { outcome: { outcome: 'selected', optionId: allow.optionId } };
      this.notice('warning', `the ACP agent offered no one-time allow option for ${id}; refused`);
      turn.denied.set(id, 'no one-time allow option');
      return { outcome: { outcome: 'cancelled' } };
    }
    turn.denied.set(id, decision.reason);
    const reject = pick('reject_once') ?? params.options.find((o) => o.kind === 'reject_always');
    return reject
      ? { outcome: { outcome: 'selected', optionId: reject.optionId } }
      : { outcome: { outcome: 'cancelled' } };
  }

  private onUpdate(params: SessionNotification): void {
    const turn = this.turn;
    if (!turn || params.sessionId !== this.agentProc?.sessionId) return;
    const update = params.update;
    const turnId = turn.input.turnId;
    switch (update.sessionUpdate) {
      case 'agent_message_chunk':
        if (update.content.type === 'text' && update.content.text) {
          this.ctx.onEvent({
            kind: 'delta',
            delta: { type: 'agent_message_delta', turnId, streamId: turn.streamId, text: update.content.text },
          });
          this.pendingText(turn).push(update.content.text);
        }
        return;
      case 'agent_thought_chunk':
        if (update.content.type === 'text' && update.content.text) {
          this.ctx.onEvent({
            kind: 'delta',
            delta: { type: 'reasoning_delta', turnId, streamId: `${turn.streamId}:thought`, text: update.content.text },
          });
        }
        return;
      case 'tool_call':
        this.flushText(turn);
        this.announce(turn, update);
        return;
      case 'tool_call_update':
        this.flushText(turn);
        this.announce(turn, update);
        if ((update.status === 'completed' || update.status === 'failed') && !turn.finished.has(update.toolCallId)) {
          this.finishTool(turn, update);
        }
        return;
      case 'usage_update':
        if (update.cost && update.cost.currency.toUpperCase() === 'USD') this.costSoFar = update.cost.amount;
        return;
      default:
        return;
    }
  }

  private finishTool(turn: Turn, update: ToolCallUpdate): void {
    const id = update.toolCallId;
    turn.finished.add(id);
    const tool = turn.tools.get(id);
    const output = toolOutput(update.content ?? [], update.rawOutput);
    const denied = turn.denied.get(id);
    if (update.status === 'completed' && !turn.asked.has(id) && tool && tool.kind !== 'read' && tool.kind !== 'think') {
      this.notice('warning', `the ACP agent ran ${tool.kind} ${id} without asking for permission`);
    }
    if (tool?.kind === 'execute' && update.status === 'completed' && denied === undefined) {
      const input = asRecord(tool.rawInput);
      const raw = asRecord(update.rawOutput);
      if (typeof input.command === 'string') {
        this.emit({
          type: 'command',
          callId: id,
          argv: ['bash', '-lc', input.command],
          cwd: typeof input.cwd === 'string' ? input.cwd : this.ctx.options.workspace,
          exitCode: typeof raw.exitCode === 'number' ? raw.exitCode : null,
          output: clip(output, MAX_TEXT_CHARS),
        });
      }
    }
    for (const item of update.content ?? []) {
      if (item.type === 'diff') {
        this.emit({
          type: 'file_change',
          path: item.path,
          diff: clip(`--- a/${item.path}\n+++ b/${item.path}\n${item.newText}`, MAX_TEXT_CHARS),
        });
      }
    }
    const text = denied !== undefined ? `permission denied: ${denied}` : output;
    this.emit({
      type: 'tool_result',
      callId: id,
      output: clip(text, MAX_TEXT_CHARS),
      isError: update.status === 'failed',
    });
  }

  private readonly texts = new WeakMap<Turn, string[]>();

  private pendingText(turn: Turn): string[] {
    let list = this.texts.get(turn);
    if (!list) this.texts.set(turn, (list = []));
    return list;
  }

  /** Ends the current message: the chunks so far become one `agent_message`; later chunks start a new stream. */
  private flushText(turn: Turn): void {
    const text = this.pendingText(turn).join('');
    this.texts.set(turn, []);
    if (!text) return;
    this.emit({ type: 'agent_message', text: clip(text, MAX_TEXT_CHARS), streamId: turn.streamId });
    turn.streamId = randomUUID();
  }
}

function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function toolOutput(content: ToolCallContent[], rawOutput: unknown): string {
  const texts = content.flatMap((c) =>
    c.type === 'content' && c.content.type === 'text'
      ? [c.content.text]
      : c.type === 'diff'
        ? [`edited ${c.path}`]
        : [],
  );
  if (texts.length > 0) return texts.join('\n');
  return rawOutput === undefined || rawOutput === null ? '' : JSON.stringify(rawOutput);
}

function killTree(proc: ChildProcessWithoutNullStreams, signal: NodeJS.Signals = 'SIGKILL'): void {
  const pid = proc.pid;
  if (pid === undefined) return;
  for (const target of [-pid, pid, ...descendantsOf(pid)]) {
    try {
      process.kill(target, signal);
    } catch {
      // already gone
    }
  }
}
