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
import { displayPath } from '../codex/tools';
import type { HostedLoop, HostedLoopContext } from '../host/host-process';
import { inheritedNetworkEnv } from '../launch';
import { contentToText } from '../yoke/agent-loop';
import { clip, unifiedDiff } from '../yoke/diff';
import { costUsd } from '../yoke/pricing';
import { knownAcpAgent, type KnownAcpAgentName, setUpKnownAgent } from './agents';
import { acpToolKind, exitCodeOf } from './tools';

/** How long a cancelled turn may take to end before the agent is restarted. */
const CANCEL_GRACE_MS = 3000;
const STDERR_TAIL = 4000;

/** A tool call as the agent described it so far; `rawInput` undefined when it sent none. */
interface AcpTool {
  kind: string;
  title: string;
  rawInput: unknown;
  /** The files it touches (ACP `locations`). */
  paths: string[];
}

const isStarted = (status: string | null | undefined): boolean =>
  status === 'in_progress' || status === 'completed' || status === 'failed';

interface UsageCounts {
  inputTokens: number;
  outputTokens: number;
  cachedReadTokens?: number | null;
}

interface Turn {
  input: TurnInput;
  cancelled: boolean;
  streamId: string;
  /** The reasoning stream (thought chunks) and its chunks not yet reported as an item. */
  thoughtStreamId: string;
  thoughts: string[];
  /** Tool calls announced, asked about, refused (with the reason), and finished. */
  tools: Map<string, AcpTool>;
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
  /** A known agent is started with the session's model on its command line; its model option is left alone. */
  private modelApplied = false;
  private readonly known: KnownAcpAgentName | null;
  private warnedUnknown = false;

  private constructor(
    private readonly ctx: HostedLoopContext,
    private readonly command: string[],
  ) {
    this.model = ctx.options.model ?? ctx.options.agent.model ?? null;
    this.known = (process.env.YOKE_ACP_AGENT as KnownAcpAgentName | undefined) ?? knownAcpAgent(command);
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
      thoughtStreamId: randomUUID(),
      thoughts: [],
      tools: new Map(),
      announced: new Set(),
      asked: new Set(),
      denied: new Map(),
      finished: new Set(),
      waiting: new Set(),
      costAtStart: this.costSoFar,
    };
    this.turn = turn;
    if (!this.warnedUnknown && !this.known) {
      this.warnedUnknown = true;
      this.notice(
        'warning',
        `${this.command[0]} is an ACP agent Yoke does not know how to configure: if it runs tools without asking ` +
          '(session/request_permission), policies see those calls only after they ran',
      );
    }
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
      this.reportUsage(turn, response);
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

  /**
   * The turn's usage: ACP's `usage` (the unstable per-turn token counts), else Gemini CLI's `_meta.quota`, which
   * counts per model. The agent's own cost report (`usage_update`) wins over list prices.
   */
  private reportUsage(turn: Turn, response: { usage?: UsageCounts | null; _meta?: Record<string, unknown> | null }) {
    const reported = this.costSoFar === null ? null : this.costSoFar - (turn.costAtStart ?? 0);
    const emit = (model: string, counts: { inputTokens: number; outputTokens: number; cachedTokens: number }) => {
      const cost = reported !== null && reported >= 0 ? reported : costUsd(model, counts);
      this.emit({ type: 'usage', model, ...counts, costUsd: cost });
    };
    if (response.usage) {
      emit(this.model ?? 'unknown', {
        inputTokens: response.usage.inputTokens,
        outputTokens: response.usage.outputTokens,
        cachedTokens: response.usage.cachedReadTokens ?? 0,
      });
      return;
    }
    const quota = asRecord(asRecord(response._meta).quota);
    const perModel = Array.isArray(quota.model_usage) ? quota.model_usage.map(asRecord) : [];
    for (const entry of perModel) {
      const tokens = asRecord(entry.token_count);
      const inputTokens = typeof tokens.input_tokens === 'number' ? tokens.input_tokens : 0;
      const outputTokens = typeof tokens.output_tokens === 'number' ? tokens.output_tokens : 0;
      if (inputTokens + outputTokens === 0) continue;
      const model = typeof entry.model === 'string' && entry.model ? entry.model : (this.model ?? 'unknown');
      emit(model, { inputTokens, outputTokens, cachedTokens: 0 });
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
    if (provider.geminiBaseUrl) env.GOOGLE_GEMINI_BASE_URL = provider.geminiBaseUrl;
    if (provider.geminiApiKey) env.GEMINI_API_KEY = provider.geminiApiKey;
    let argv = this.command;
    const known = this.known;
    if (known) {
      const setup = setUpKnownAgent(known, this.command, {
        home: env.HOME,
        workspace: options.workspace,
        model: options.model ?? options.agent.model ?? null,
        provider,
      });
      argv = setup.argv;
      Object.assign(env, setup.env);
      this.modelApplied = setup.modelApplied;
    }
    const [command, ...args] = argv;
    const proc = spawn(command, args, { cwd: options.workspace, env, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (text: string) => {
      stderr = (stderr + text).slice(-STDERR_TAIL);
    });
    proc.stdin.on('error', () => undefined);
    const exited = new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.once('error', (e: NodeJS.ErrnoException) => {
        stderr += e.code === 'ENOENT' ? missingProgram(command) : e.message;
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
    if (this.modelApplied) {
      this.model = this.ctx.options.model ?? this.ctx.options.agent.model ?? this.model;
      return;
    }
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

  /**
   * Records what an update says of a tool call, and reports the call once it is asked about or starts: a pending
   * call may still be filling in its input (OpenCode first sends the bare tool name), and the item shows the input
   * the permission hook saw.
   */
  private announce(turn: Turn, update: ToolCallUpdate, report = true): void {
    const id = update.toolCallId;
    const known = turn.tools.get(id);
    const tool = {
      kind: update.kind ?? known?.kind ?? 'other',
      title: update.title ?? known?.title ?? '',
      rawInput: update.rawInput ?? known?.rawInput,
      paths: update.locations?.map((l) => l.path) ?? known?.paths ?? [],
    };
    turn.tools.set(id, tool);
    if (!report || turn.announced.has(id)) return;
    turn.announced.add(id);
    this.emit({
      type: 'tool_call',
      callId: id,
      tool: acpToolKind(tool.kind),
      nativeTool: tool.kind,
      input: toolInput(tool),
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
        input: toolInput(tool ?? { kind: 'other', title: '', rawInput: undefined, paths: [] }),
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
    // Not every agent reports a refused call as failed (Gemini CLI sends nothing more): its result is the refusal.
    turn.finished.add(id);
    this.emit({
      type: 'tool_result',
      callId: id,
      output: clip(`permission denied: ${decision.reason}`, MAX_TEXT_CHARS),
      isError: true,
    });
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
          this.flushThoughts(turn);
          this.ctx.onEvent({
            kind: 'delta',
            delta: { type: 'agent_message_delta', turnId, streamId: turn.streamId, text: update.content.text },
          });
          this.pendingText(turn).push(update.content.text);
        }
        return;
      case 'agent_thought_chunk':
        if (update.content.type === 'text' && update.content.text) {
          this.flushMessage(turn);
          this.ctx.onEvent({
            kind: 'delta',
            delta: { type: 'reasoning_delta', turnId, streamId: turn.thoughtStreamId, text: update.content.text },
          });
          turn.thoughts.push(update.content.text);
        }
        return;
      case 'plan':
        this.flushText(turn);
        if (update.entries.length > 0) {
          const lines = update.entries.map((e) => `- [${e.status === 'completed' ? 'x' : ' '}] ${e.content}`);
          this.emit({ type: 'reasoning', text: clip(`Plan:\n${lines.join('\n')}`, MAX_TEXT_CHARS) });
        }
        return;
      case 'tool_call':
        this.flushText(turn);
        this.announce(turn, update, isStarted(update.status));
        return;
      case 'tool_call_update':
        this.flushText(turn);
        this.announce(turn, update, isStarted(update.status));
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
    if (tool?.kind === 'execute' && denied === undefined) {
      const command = commandOf(tool);
      if (command !== null) {
        const input = asRecord(tool.rawInput);
        this.emit({
          type: 'command',
          callId: id,
          argv: ['bash', '-lc', command],
          cwd: typeof input.cwd === 'string' ? input.cwd : this.ctx.options.workspace,
          exitCode: exitCodeOf(update.rawOutput, output),
          output: clip(output, MAX_TEXT_CHARS),
        });
      }
    }
    const workspace = this.ctx.options.workspace;
    const diffs = (update.content ?? []).flatMap((c) => (c.type === 'diff' ? [c] : []));
    for (const item of diffs) {
      const path = displayPath(workspace, item.path);
      // Gemini CLI sends an added file's old text as "" with `_meta.kind: "add"`.
      const before = asRecord(item._meta).kind === 'add' ? null : (item.oldText ?? null);
      this.emit({ type: 'file_change', path, diff: unifiedDiff(path, before, item.newText) });
    }
    if (diffs.length === 0 && update.status === 'completed' && denied === undefined && tool) {
      for (const change of patchedFiles(workspace, tool.rawInput)) this.emit({ type: 'file_change', ...change });
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

  /** Ends the current message and reasoning (a tool call, a plan or the turn's end follows). */
  private flushText(turn: Turn): void {
    this.flushThoughts(turn);
    this.flushMessage(turn);
  }

  /** The thought chunks so far become one `reasoning` item; later chunks start a new stream. */
  private flushThoughts(turn: Turn): void {
    const text = turn.thoughts.join('');
    turn.thoughts = [];
    if (!text) return;
    this.emit({ type: 'reasoning', text: clip(text, MAX_TEXT_CHARS), streamId: turn.thoughtStreamId });
    turn.thoughtStreamId = randomUUID();
  }

  /** Ends the current message: the chunks so far become one `agent_message`; later chunks start a new stream. */
  private flushMessage(turn: Turn): void {
    const text = this.pendingText(turn).join('');
    this.texts.set(turn, []);
    if (!text) return;
    this.emit({ type: 'agent_message', text: clip(text, MAX_TEXT_CHARS), streamId: turn.streamId });
    turn.streamId = randomUUID();
  }
}

/**
 * Why a program could not start: inside Omnibox only what the runner binds exists (the agent's install root, found
 * from the runner's PATH, is bound read-only; `YOKE_ACP_AGENT_PATHS` says which).
 */
function missingProgram(command: string): string {
  const bound = process.env.YOKE_ACP_AGENT_PATHS;
  return (
    `cannot run ${command}: it, or the interpreter on its #! line, does not exist here` +
    (bound !== undefined
      ? ` (bound from the runner: ${bound || 'nothing'}). Install the agent under a directory the runner can read, ` +
        "with its interpreter (node) on the runner's PATH, or run it unsandboxed (YOKE_SANDBOX=none) to test"
      : '')
  );
}

/** What a tool call is asked and shown with: the agent's title and raw input; for a shell call, its command. */
function toolInput(tool: AcpTool): unknown {
  const input: Record<string, unknown> = { title: tool.title, ...asRecord(tool.rawInput) };
  const command = commandOf(tool);
  if (command !== null && typeof input.command !== 'string') input.command = command;
  // Agents that send no raw input (Gemini CLI) name the files only as locations: policies see them as `paths`.
  if (tool.paths.length > 0 && tool.rawInput === undefined) input.paths = tool.paths;
  // OpenCode's apply_patch names its files in `files[].filePath`.
  const files = Array.isArray(input.files) ? input.files.map(asRecord) : [];
  const filePaths = files.flatMap((f) => (typeof f.filePath === 'string' ? [f.filePath] : []));
  if (filePaths.length > 0 && !Array.isArray(input.paths)) input.paths = filePaths;
  return JSON.parse(JSON.stringify(input)) as unknown;
}

/**
 * The command line of an `execute` call: `rawInput.command` (a string, or argv), else, when the agent sends no raw
 * input at all (Gemini CLI), the title, which is where such agents put the command.
 */
function commandOf(tool: AcpTool): string | null {
  if (tool.kind !== 'execute') return null;
  const raw = asRecord(tool.rawInput);
  if (typeof raw.command === 'string') return raw.command;
  if (Array.isArray(raw.command) && raw.command.every((w) => typeof w === 'string')) return raw.command.join(' ');
  return tool.rawInput === undefined && tool.title.trim() ? tool.title : null;
}

/**
 * The files a completed edit changed, from agents that describe them in the raw input rather than as ACP diffs:
 * OpenCode's `apply_patch` asks with `files[{filePath, type: add|update|delete|move, patch}]`.
 */
function patchedFiles(workspace: string, rawInput: unknown): { path: string; diff: string }[] {
  const files = asRecord(rawInput).files;
  if (!Array.isArray(files)) return [];
  return files.map(asRecord).flatMap((f) => {
    if (typeof f.filePath !== 'string' || typeof f.patch !== 'string') return [];
    const path = displayPath(workspace, f.filePath);
    const hunks = f.patch.slice(Math.max(0, f.patch.indexOf('\n@@') + 1));
    const from = f.type === 'add' ? '/dev/null' : `a/${path}`;
    const to = f.type === 'delete' ? '/dev/null' : `b/${path}`;
    return [{ path, diff: clip(`--- ${from}\n+++ ${to}\n${f.patch.includes('\n@@') ? hunks : ''}`, MAX_TEXT_CHARS) }];
  });
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
