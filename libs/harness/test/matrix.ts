import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { AgentSpec, type ItemBody } from '@yoke/protocol';
import { testAcpAgentHarness } from '../../../test/fixtures/acp-agent';
import type { FakeModel, FakeModelStep, RecordedRequest } from '../../../test/fixtures/fake-model';
import type {
  HarnessAdapter,
  HarnessEvent,
  HarnessSession,
  PermissionHook,
  PermissionRequest,
  TurnOutcome,
} from '../src/adapter';
import { HARNESS_CAPABILITY_NAMES, type HarnessCapabilities } from '../src/capabilities';
import { createHarnessAdapter } from '../src/registry';
import { isAlive } from './adapter-kit';

/**
 * The capability-matrix probes: each drives a real harness (CLI or SDK) against the fake model and observes what it
 * actually does for one capability. Shared by `test/e2e/harness-matrix.e2e-spec.ts` (fails on drift from the
 * adapter's declaration) and `npm run harness:matrix` (writes docs/harness-matrix.md). Test-only code.
 */

export type Capability = (typeof HARNESS_CAPABILITY_NAMES)[number];

export interface MatrixHarness {
  /** Row label (the test ACP agent's `acp:<command>` is long). */
  label: string;
  /** The `harness:` name given to the registry. */
  harness: string;
  /** What the harness runs on, from the installed package.json files. */
  versions: string[];
  /** The agent's model, and a different one for the override probe. */
  model: string;
  overrideModel: string;
  /** The scripted shell call in the harness's own tool vocabulary. */
  shell: (command: string) => FakeModelStep;
  /** How a runner gets the harness (docs), and the variables it needs for its model (keys, endpoints). */
  install: string;
  keys: string;
}

export interface Observation {
  declared: boolean;
  observed: boolean;
  /** What was seen, in a few words (shown in the doc). */
  note: string;
}

export interface HarnessReport {
  harness: MatrixHarness;
  results: Partial<Record<Capability, Observation>>;
  /** Probe crashes (a probe that throws observes `false`). */
  errors: string[];
  seconds: number;
}

const actor = { id: 'matrix', name: 'Capability matrix' };

/** `<pkg> <version>` from the package.json the harness package resolves (its own node_modules, then the root's). */
function installedVersion(pkg: string): string {
  for (let dir = join(__dirname, '..'); ; dir = dirname(dir)) {
    const file = join(dir, 'node_modules', pkg, 'package.json');
    if (existsSync(file)) return `${pkg} ${(JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version}`;
    if (dirname(dir) === dir) return `${pkg} (not installed)`;
  }
}

const named = (name: string, input: (command: string) => unknown) => (command: string) => ({
  toolCalls: [{ name, input: input(command) }],
});

/** Every harness the matrix covers, in table order. */
export function matrixHarnesses(): MatrixHarness[] {
  const own = `@yoke/harness ${(JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version: string }).version}`;
  const claudeBash = named('Bash', (command) => ({ command, description: 'run it' }));
  const yokeShell = named('shell', (command) => ({ command }));
  return [
    {
      label: 'yoke',
      harness: 'yoke',
      versions: [own],
      model: 'claude-sonnet-4-5',
      overrideModel: 'claude-haiku-4-5',
      shell: yokeShell,
      install: 'part of Yoke',
      keys: "`ANTHROPIC_API_KEY` or `OPENAI_API_KEY` (by the model's provider; `*_BASE_URL` for a compatible endpoint)",
    },
    {
      label: 'claude-code',
      harness: 'claude-code',
      versions: [installedVersion('@anthropic-ai/claude-code')],
      model: 'claude-sonnet-4-5',
      overrideModel: 'claude-haiku-4-5',
      shell: claudeBash,
      install: 'a dependency of `@yoke/harness` (`@anthropic-ai/claude-code`; its native binary ships in npm)',
      keys: '`ANTHROPIC_API_KEY` (`ANTHROPIC_BASE_URL`)',
    },
    {
      label: 'claude-sdk',
      harness: 'claude-sdk',
      versions: [installedVersion('@anthropic-ai/claude-agent-sdk')],
      model: 'claude-sonnet-4-5',
      overrideModel: 'claude-haiku-4-5',
      shell: claudeBash,
      install: 'part of Yoke (`@anthropic-ai/claude-agent-sdk`)',
      keys: '`ANTHROPIC_API_KEY` (`ANTHROPIC_BASE_URL`)',
    },
    {
      label: 'codex',
      harness: 'codex',
      versions: [installedVersion('@openai/codex')],
      model: 'gpt-5.5',
      overrideModel: 'gpt-5.4',
      shell: named('exec_command', (cmd) => ({ cmd })),
      install: 'a dependency of `@yoke/harness` (`@openai/codex`; its native binary ships in npm)',
      keys: '`OPENAI_API_KEY` (`OPENAI_BASE_URL`: a Responses API)',
    },
    {
      label: 'pi',
      harness: 'pi',
      versions: [installedVersion('@mariozechner/pi-coding-agent')],
      model: 'gpt-4o',
      overrideModel: 'gpt-4.1',
      shell: named('bash', (command) => ({ command })),
      install: 'a dependency of `@yoke/harness` (`@mariozechner/pi-coding-agent`)',
      keys: "`ANTHROPIC_API_KEY` or `OPENAI_API_KEY` (by the model's provider)",
    },
    {
      label: 'openai-agents',
      harness: 'openai-agents',
      versions: [installedVersion('@openai/agents')],
      model: 'gpt-5.5',
      overrideModel: 'gpt-4.1',
      shell: yokeShell,
      install: 'part of Yoke (`@openai/agents`)',
      keys: '`OPENAI_API_KEY` (`OPENAI_BASE_URL`)',
    },
    {
      label: 'acp:<test agent>',
      harness: testAcpAgentHarness(),
      versions: [installedVersion('@agentclientprotocol/sdk')],
      model: 'gpt-5.5',
      overrideModel: 'gpt-4.1',
      shell: yokeShell,
      install: "Yoke's test ACP agent (test/fixtures/acp-agent); any ACP agent runs as `acp:<command>`",
      keys: '`OPENAI_API_KEY` (`OPENAI_BASE_URL`); an unknown agent gets `OPENAI_*`, `ANTHROPIC_*` and `GEMINI_API_KEY` / `GOOGLE_GEMINI_BASE_URL`',
    },
    {
      label: 'acp:gemini --acp',
      harness: 'acp:gemini --acp',
      versions: [installedVersion('@google/gemini-cli')],
      model: 'gemini-2.5-pro',
      overrideModel: 'gemini-2.5-flash',
      shell: named('run_shell_command', (command) => ({ command })),
      install: "`npm install -g @google/gemini-cli` (0.61.0 tested): `gemini` on the runner's PATH",
      keys: '`GEMINI_API_KEY` (`GOOGLE_GEMINI_BASE_URL` for another endpoint)',
    },
    {
      label: 'acp:opencode acp',
      harness: 'acp:opencode acp',
      versions: [installedVersion('opencode-linux-x64')],
      model: 'gpt-5.5',
      overrideModel: 'gpt-4.1',
      shell: named('bash', (command) => ({ command, description: 'run it' })),
      install: "`npm install -g opencode-ai` (1.18.33 tested; a native binary): `opencode` on the runner's PATH",
      keys: '`OPENAI_API_KEY` (`OPENAI_BASE_URL`: any Chat Completions endpoint)',
    },
  ];
}

interface Started {
  session: HarnessSession;
  events: HarnessEvent[];
  asked: PermissionRequest[];
}

interface ProbeContext {
  fake: FakeModel;
  target: MatrixHarness;
  adapter: HarnessAdapter;
  root: string;
  /** How long the `ask` probe's hook takes to answer. */
  askDelayMs: number;
  sessions: HarnessSession[];
}

async function eventually(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** Resolves with the turn's outcome, or `timeout` when it does not end in time (the probe then observes false). */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function start(
  ctx: ProbeContext,
  name: string,
  options: { permission?: PermissionHook; model?: string | null; stateDir?: string } = {},
): Promise<Started & { workspace: string; stateDir: string }> {
  const workspace = join(ctx.root, name, 'ws');
  mkdirSync(workspace, { recursive: true });
  const stateDir = options.stateDir ?? join(ctx.root, name, 'state');
  const events: HarnessEvent[] = [];
  const asked: PermissionRequest[] = [];
  const permission = options.permission ?? (async () => ({ behavior: 'allow' as const }));
  const session = await ctx.adapter.start({
    sessionId: `matrix-${name}`,
    agent: AgentSpec.parse({
      name: 'matrix',
      prompt: 'You are a test agent.',
      harness: ctx.target.harness,
      model: ctx.target.model,
    }),
    model: options.model ?? null,
    workspace,
    stateDir,
    provider: {
      anthropicBaseUrl: ctx.fake.anthropicBaseUrl,
      anthropicApiKey: 'matrix-key',
      openaiBaseUrl: ctx.fake.openaiBaseUrl,
      openaiApiKey: 'matrix-key',
      geminiBaseUrl: ctx.fake.geminiBaseUrl,
      geminiApiKey: 'matrix-key',
    },
    permission: (request) => {
      asked.push(request);
      return permission(request);
    },
    onEvent: (event) => events.push(event),
  });
  ctx.sessions.push(session);
  return { session, events, asked, workspace, stateDir };
}

const turn = (session: HarnessSession, text: string, turnId: string) =>
  session.runTurn({ turnId, content: [{ type: 'text', text }], actor });
const itemsOf = (events: HarnessEvent[]): ItemBody[] => events.flatMap((e) => (e.kind === 'item' ? [e.item] : []));
/** Model requests whose conversation mentions `token` (this probe's prompts). */
const requestsWith = (fake: FakeModel, token: string) =>
  fake.requests.filter((r) => r.api !== null && JSON.stringify(r.body).includes(token));

/** The model a request names: in the body, or for Gemini in the path (`/v1beta/models/{model}:…`). */
const modelOf = (r: RecordedRequest): unknown =>
  r.api === 'gemini' ? /^\/v1beta\/models\/([^/:]+):/.exec(r.path)?.[1] : (r.body as { model?: unknown }).model;

const TURN_MS = 60_000;

type Probe = (ctx: ProbeContext, declared: HarnessCapabilities) => Promise<Partial<Record<Capability, Observation>>>;

/** One turn with a scripted shell call and a text answer: streaming, tool calls, cost. */
const probeRun: Probe = async (ctx, declared) => {
  const token = `RUN-${ctx.target.label}`;
  ctx.fake.script([{ match: token, steps: [ctx.target.shell('echo hi > out.txt'), { text: 'Wrote out.txt.' }] }]);
  const { session, events, asked, workspace } = await start(ctx, 'run');
  const outcome = await within(turn(session, `${token}: write the file`, 't1'), TURN_MS);
  const items = itemsOf(events);
  const ran = existsSync(join(workspace, 'out.txt')) && readFileSync(join(workspace, 'out.txt'), 'utf8') === 'hi\n';
  const call = items.find((i) => i.type === 'tool_call');
  const toolCalls =
    ran &&
    call?.type === 'tool_call' &&
    call.tool === 'shell' &&
    asked.some((a) => a.tool === 'shell' && a.callId === call.callId) &&
    items.some((i) => i.type === 'tool_result' && i.callId === call.callId);
  const message = items.find((i) => i.type === 'agent_message');
  const deltas = events.flatMap((e) => (e.kind === 'delta' && e.delta.type === 'agent_message_delta' ? [e.delta] : []));
  const firstDelta = events.findIndex((e) => e.kind === 'delta' && e.delta.type === 'agent_message_delta');
  const messageAt = events.findIndex((e) => e.kind === 'item' && e.item.type === 'agent_message');
  const streaming =
    message?.type === 'agent_message' &&
    message.text === 'Wrote out.txt.' &&
    deltas.map((d) => d.text).join('') === message.text &&
    firstDelta >= 0 &&
    firstDelta < messageAt;
  const usage = items.flatMap((i) => (i.type === 'usage' ? [i] : []));
  const calls = requestsWith(ctx.fake, token).length;
  const cost = usage.length > 0 && usage.every((u) => (u.costUsd ?? 0) > 0 && u.model.length > 0);
  return {
    toolCalls: {
      declared: declared.toolCalls,
      observed: Boolean(toolCalls),
      note: toolCalls
        ? `\`${call.nativeTool}\` → \`shell\`, ran in the workspace`
        : `turn: ${JSON.stringify(outcome)}; out.txt ${ran ? 'written' : 'missing'}; tool_call ${call ? (call as { tool: string }).tool : 'none'}`,
    },
    streaming: {
      declared: declared.streaming,
      observed: Boolean(streaming),
      note: `${deltas.length} delta(s) before the message`,
    },
    cost: {
      declared: declared.cost,
      observed: cost,
      note: `${usage.length} usage item(s) for ${calls} model call(s), $${usage.reduce((s, u) => s + (u.costUsd ?? 0), 0).toFixed(6)}`,
    },
  };
};

/** A refused call: no side effect, an error result, and the model is called again with the refusal. */
const probeDeny: Probe = async (ctx, declared) => {
  const token = `DENY-${ctx.target.label}`;
  const reason = 'matrix refuses this call';
  ctx.fake.script([{ match: token, steps: [ctx.target.shell('echo no > denied.txt'), { text: 'Understood.' }] }]);
  const { session, events, asked, workspace } = await start(ctx, 'deny', {
    permission: async () => ({ behavior: 'deny', reason }),
  });
  const outcome = await within(turn(session, `${token}: try it`, 't1'), TURN_MS);
  const items = itemsOf(events);
  const sideEffect = existsSync(join(workspace, 'denied.txt'));
  const result = items.find((i) => i.type === 'tool_result');
  const followUps = requestsWith(ctx.fake, token);
  const heard = followUps.length >= 2;
  const reasonReached = heard && JSON.stringify(followUps[followUps.length - 1].body).includes(reason);
  const observed =
    asked.length === 1 && !sideEffect && result?.type === 'tool_result' && result.isError === true && heard;
  return {
    deny: {
      declared: declared.deny,
      observed,
      note: observed
        ? `no side effect; the model hears ${reasonReached ? 'the reason' : "the harness's own refusal text (no reason field)"}`
        : `turn: ${JSON.stringify(outcome)}; asked ${asked.length}; side effect ${sideEffect}; result ${JSON.stringify(result)?.slice(0, 120)}`,
    },
  };
};

/** The hook answers only after a while: nothing runs before the answer, and the call runs after it. */
const probeAsk: Probe = async (ctx, declared) => {
  const token = `ASK-${ctx.target.label}`;
  ctx.fake.script([{ match: token, steps: [ctx.target.shell('echo yes > asked.txt'), { text: 'Done.' }] }]);
  let ranEarly = false;
  let workspaceDir = '';
  const { session, workspace } = await start(ctx, 'ask', {
    permission: async () => {
      await new Promise((r) => setTimeout(r, ctx.askDelayMs));
      ranEarly = existsSync(join(workspaceDir, 'asked.txt'));
      return { behavior: 'allow' };
    },
  });
  workspaceDir = workspace;
  const outcome = await within(turn(session, `${token}: ask first`, 't1'), TURN_MS + ctx.askDelayMs);
  const ranAfter = existsSync(join(workspace, 'asked.txt'));
  const observed = !ranEarly && ranAfter && outcome !== 'timeout' && outcome.stopReason === 'end_turn';
  return {
    ask: {
      declared: declared.ask,
      observed,
      note: observed
        ? `waited ${ctx.askDelayMs / 1000} s for the hook, then ran`
        : `turn: ${JSON.stringify(outcome)}; ran before the answer ${ranEarly}; ran after ${ranAfter}`,
    },
  };
};

/** Cancel a held model call and a running command (its process dies); the next turn works. */
const probeInterrupt: Probe = async (ctx, declared) => {
  const token = ctx.target.label;
  const gate = `gate-${token}`;
  ctx.fake.hold(gate);
  ctx.fake.script([
    // Claude Code merges an interrupted prompt into the next user message, and after a cancelled tool call the next
    // prompt shares a message with its tool_result: the latest rule comes first, and SLEEP answers AGAIN's call.
    { match: `AGAIN-${token}`, steps: [{ text: 'Back.' }] },
    {
      match: `SLEEP-${token}`,
      steps: [ctx.target.shell('tail -f /dev/null & echo $! > pid.txt; wait'), { text: 'Back.' }],
    },
    { match: `HOLD-${token}`, steps: [{ holdUntil: gate, text: 'never seen' }] },
  ]);
  const { session, events, workspace } = await start(ctx, 'interrupt');
  const notes: string[] = [];
  const held = turn(session, `HOLD-${token}`, 't1');
  const parked = await within(ctx.fake.waitForHold(gate), TURN_MS);
  session.cancel();
  const first = await within(held, 30_000);
  const heldOk = parked !== 'timeout' && first !== 'timeout' && first.stopReason === 'cancelled';
  notes.push(`held model call: ${heldOk ? 'cancelled' : JSON.stringify(first)}`);
  ctx.fake.release(gate);

  const sleeping = turn(session, `SLEEP-${token}`, 't2');
  const pidFile = join(workspace, 'pid.txt');
  const started = await eventually(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), TURN_MS);
  const pid = started ? Number(readFileSync(pidFile, 'utf8')) : 0;
  session.cancel();
  const second = await within(sleeping, 30_000);
  const killed = started && (await eventually(() => !isAlive(pid), 15_000));
  const commandOk = killed && second !== 'timeout' && second.stopReason === 'cancelled';
  notes.push(
    `running command: ${commandOk ? 'cancelled, its process killed' : `started ${started}, killed ${killed}, turn ${JSON.stringify(second)}`}`,
  );

  const before = events.length;
  const third = await within(turn(session, `AGAIN-${token}`, 't3'), TURN_MS).catch((e: Error) => e.message);
  const back = itemsOf(events.slice(before)).some((i) => i.type === 'agent_message' && i.text === 'Back.');
  const nextOk = typeof third === 'object' && third.stopReason === 'end_turn' && back;
  notes.push(`next turn: ${nextOk ? 'works' : JSON.stringify(third)}`);
  return {
    interrupt: { declared: declared.interrupt, observed: heldOk && commandOk && nextOk, note: notes.join('; ') },
  };
};

/**
 * A message steered into a running turn reaches the model in that same turn, twice: once while the turn's command
 * waits for its permission (the message joins at the tool boundary), once while the model is writing what would
 * be its final answer (the turn must not end without it). Each time a model request of the turn carries the message
 * before the turn ends, once, with `end_turn`.
 */
const probeSteer: Probe = async (ctx, declared) => {
  const token = ctx.target.label;
  const gate = `steer-${token}`;
  ctx.fake.hold(gate);
  ctx.fake.script([
    { match: `STEER-4-${token}`, steps: [{ text: 'Heard the late message.' }] },
    { match: `STEER-3-${token}`, steps: [{ holdUntil: gate, text: 'First answer.' }, { text: 'Again.' }] },
    { match: `STEER-2-${token}`, steps: [{ text: 'Heard the second message.' }] },
    // A harness that folds the message into the command's result keeps this rule: its next call plays step 2.
    {
      match: `STEER-1-${token}`,
      steps: [ctx.target.shell('sleep 2; echo slept'), { text: 'Finished.' }, { text: 'Heard the second message.' }],
    },
  ]);
  let running: HarnessSession | null = null;
  const steer = (turnId: string, text: string): Promise<boolean | 'unsupported'> =>
    running?.steer
      ? running.steer({ turnId, content: [{ type: 'text', text }], actor }).catch(() => false)
      : Promise.resolve('unsupported' as const);
  let atTool: Promise<boolean | 'unsupported'> | null = null;
  const { session } = await start(ctx, 'steer', {
    // The command is about to run: the turn is certainly in flight when the message arrives.
    permission: async () => {
      atTool ??= steer('t1', `STEER-2-${token}: also say that you heard this`);
      return { behavior: 'allow' };
    },
  });
  running = session;
  const check = async (
    what: string,
    key: string,
    run: Promise<unknown>,
    steered: () => Promise<boolean | 'unsupported'> | null,
  ): Promise<{ ok: boolean; unsupported: boolean; note: string }> => {
    const outcome = await within(run, TURN_MS);
    const inTurn = requestsWith(ctx.fake, key).length;
    const accepted = await within<boolean | 'unsupported' | 'never sent'>(
      steered() ?? Promise.resolve('never sent'),
      5000,
    );
    // A harness that runs the message as a turn of its own after this one calls the model again now.
    await new Promise((r) => setTimeout(r, 2000));
    const later = requestsWith(ctx.fake, key).length - inTurn;
    const ended = typeof outcome === 'object' && (outcome as TurnOutcome).stopReason === 'end_turn';
    const ok = accepted === true && ended && inTurn > 0 && later === 0;
    return {
      ok,
      unsupported: accepted === 'unsupported',
      note: ok
        ? `${what}: the same turn's model request carried it`
        : `${what}: steer() answered ${JSON.stringify(accepted)}, turn ${JSON.stringify(outcome)}, ${inTurn} request(s) carried it in the turn and ${later} after it`,
    };
  };
  const tool = await check(
    'sent during a command',
    `STEER-2-${token}`,
    turn(session, `STEER-1-${token}: run the command`, 't1'),
    () => atTool,
  );
  if (tool.unsupported)
    return { steer: { declared: declared.steer, observed: false, note: 'the session has no steer()' } };
  const held = turn(session, `STEER-3-${token}: answer`, 't2');
  let late: Promise<boolean | 'unsupported'> | null = null;
  const parked = await within(ctx.fake.waitForHold(gate), TURN_MS);
  if (parked !== 'timeout') late = steer('t2', `STEER-4-${token}: one more thing`);
  await new Promise((r) => setTimeout(r, 300));
  ctx.fake.release(gate);
  const answer = await check('sent during the final answer', `STEER-4-${token}`, held, () => late);
  return {
    steer: {
      declared: declared.steer,
      observed: tool.ok && answer.ok,
      note: `${tool.note}; ${answer.note}`,
    },
  };
};

/** A second session on the same state directory sees the first session's conversation. */
const probeResume: Probe = async (ctx, declared) => {
  const token = ctx.target.label;
  ctx.fake.script([
    { match: `REMEMBER-2-${token}`, steps: [{ text: 'You said 42.' }] },
    { match: `REMEMBER-1-${token}`, steps: [{ text: 'The secret is 42.' }] },
  ]);
  const first = await start(ctx, 'resume');
  await within(turn(first.session, `REMEMBER-1-${token}: the secret`, 't1'), TURN_MS);
  await first.session.close();
  const second = await start(ctx, 'resume', { stateDir: first.stateDir });
  const outcome = await within(turn(second.session, `REMEMBER-2-${token}: what was it?`, 't2'), TURN_MS);
  const requests = requestsWith(ctx.fake, `REMEMBER-2-${token}`);
  const observed =
    requests.length > 0 && JSON.stringify(requests[requests.length - 1].body).includes('The secret is 42.');
  return {
    resume: {
      declared: declared.resume,
      observed,
      note: observed
        ? 'the new session sends the earlier conversation'
        : `the new session starts a fresh conversation (turn: ${JSON.stringify(outcome)})`,
    },
  };
};

/** The session's model (not the agent's) is what the model request names. */
const probeModel: Probe = async (ctx, declared) => {
  const token = `MODEL-${ctx.target.label}`;
  ctx.fake.script([{ match: token, steps: [{ text: 'ok' }] }]);
  const { session } = await start(ctx, 'model', { model: ctx.target.overrideModel });
  await within(turn(session, `${token}: which model?`, 't1'), TURN_MS);
  const requests = requestsWith(ctx.fake, token);
  const sent = requests.map(modelOf);
  const observed = sent.length > 0 && sent.every((m) => m === ctx.target.overrideModel);
  return {
    modelOverride: {
      declared: declared.modelOverride,
      observed,
      note: `asked for ${ctx.target.overrideModel}, requests named ${[...new Set(sent)].join(', ') || 'nothing'}`,
    },
  };
};

const PROBES: { name: string; covers: Capability[]; run: Probe }[] = [
  { name: 'run', covers: ['streaming', 'toolCalls', 'cost'], run: probeRun },
  { name: 'deny', covers: ['deny'], run: probeDeny },
  { name: 'ask', covers: ['ask'], run: probeAsk },
  { name: 'interrupt', covers: ['interrupt'], run: probeInterrupt },
  { name: 'steer', covers: ['steer'], run: probeSteer },
  { name: 'resume', covers: ['resume'], run: probeResume },
  { name: 'model', covers: ['modelOverride'], run: probeModel },
];

/** Runs every probe against one harness, one session (or two) per probe, each in its own directory. */
export async function probeHarness(
  fake: FakeModel,
  target: MatrixHarness,
  options: { askDelayMs?: number; log?: (line: string) => void; probes?: string[] } = {},
): Promise<HarnessReport> {
  const began = Date.now();
  const adapter = createHarnessAdapter(target.harness);
  const declared = adapter.capabilities;
  if (!declared) throw new Error(`${target.label} declares no capabilities`);
  const report: HarnessReport = { harness: target, results: {}, errors: [], seconds: 0 };
  for (const probe of PROBES) {
    if (options.probes && !options.probes.includes(probe.name)) continue;
    const ctx: ProbeContext = {
      fake,
      target,
      adapter,
      root: mkdtempSync(join(tmpdir(), `yoke-matrix-${target.harness.startsWith('acp:') ? 'acp' : target.harness}-`)),
      askDelayMs: options.askDelayMs ?? 3000,
      sessions: [],
    };
    const t0 = Date.now();
    try {
      Object.assign(report.results, await probe.run(ctx, declared));
    } catch (e) {
      const message = (e as Error).message.split('\n')[0].slice(0, 300);
      report.errors.push(`${probe.name}: ${message}`);
      for (const name of probe.covers) {
        report.results[name] = { declared: declared[name], observed: false, note: `probe failed: ${message}` };
      }
    } finally {
      for (const session of ctx.sessions) await session.close().catch(() => undefined);
      rmSync(ctx.root, { recursive: true, force: true });
    }
    options.log?.(`${target.label} ${probe.name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  report.seconds = (Date.now() - began) / 1000;
  return report;
}

/** Capabilities whose observed behaviour differs from the declaration. */
export function drift(report: HarnessReport): string[] {
  return HARNESS_CAPABILITY_NAMES.flatMap((name) => {
    const o = report.results[name];
    if (!o) return [`${name}: not probed`];
    return o.declared === o.observed ? [] : [`${name}: declared ${o.declared}, observed ${o.observed} (${o.note})`];
  });
}

const LABELS: Record<Capability, string> = {
  streaming: 'streaming',
  toolCalls: 'tool calls',
  deny: 'deny',
  ask: 'ask',
  cost: 'cost',
  interrupt: 'interrupt',
  steer: 'steer',
  resume: 'fork/resume',
  modelOverride: 'model override',
};

/** docs/harness-matrix.md from the reports. */
export function renderMatrix(reports: HarnessReport[], meta: { generatedAt: string; node: string }): string {
  const cell = (o: Observation | undefined): string => {
    if (!o) return '—';
    const mark = o.observed ? '✅' : '❌';
    return o.declared === o.observed ? mark : `${mark} ⚠ declared ${o.declared ? 'yes' : 'no'}`;
  };
  const lines = [
    '# Harness capability matrix',
    '',
    `Generated by \`npm run harness:matrix\` on ${meta.generatedAt} (Node ${meta.node}). Every cell is **observed**: the`,
    'real CLI or SDK, installed from npm at the pinned version, was driven through its Yoke adapter against the local',
    'fake model server (test/fixtures/fake-model), with no network. ✅ = seen working, ❌ = not supported (and seen',
    "not to work). A cell marked ⚠ differs from the adapter's declaration; `test/e2e/harness-matrix.e2e-spec.ts` fails",
    'on any ⚠.',
    '',
    `| harness | version | ${HARNESS_CAPABILITY_NAMES.map((n) => LABELS[n]).join(' | ')} |`,
    `|---|---|${HARNESS_CAPABILITY_NAMES.map(() => '---').join('|')}|`,
    ...reports.map(
      (r) =>
        `| ${r.harness.label} | ${r.harness.versions.join(', ')} | ${HARNESS_CAPABILITY_NAMES.map((n) => cell(r.results[n])).join(' | ')} |`,
    ),
    '',
    '## Installing each harness, and the keys it needs',
    '',
    'Keys and endpoints are environment variables of the runner (`yoke keys set` stores the Anthropic and OpenAI keys',
    'too); inside Omnibox the harness sees only placeholders, which the egress proxy swaps for the real key on requests',
    "to that key's endpoint. An `acp:<command>` agent is found on the runner's PATH, and its install root (the",
    '`node_modules` holding its package, or the prefix above its `bin/`) is bound read-only into the sandbox.',
    '',
    '| harness | how to install it | model keys |',
    '|---|---|---|',
    ...reports.map((r) => `| ${r.harness.label} | ${r.harness.install} | ${r.harness.keys} |`),
    '',
    '## ACP agents',
    '',
    "`acp:<command>` runs any Agent Client Protocol agent. Yoke's ACP client runs inside the same sandbox as the agent,",
    "answers every `session/request_permission` with the policy engine's decision (only ever the one-time options), and",
    "offers the agent no file system or terminal of its own: the agent's tools run in the agent. Two agents Yoke knows",
    'and starts configured so that every tool call asks first, with their config only in the private home:',
    '',
    '- **Gemini CLI** (`acp:gemini --acp`): `--acp --approval-mode default`, an admin-tier policy (`--admin-policy`) that',
    '  answers `ask_user` for every tool (no user or workspace policy can allow one past it), system settings that turn',
    '  off "allow always" options, telemetry, update checks and folder trust; the endpoint is `GOOGLE_GEMINI_BASE_URL`',
    '  with `GEMINI_API_KEY` ("gateway" auth), reached through the egress proxy. Its ACP mode reports neither the output',
    '  nor the exit code of shell commands (the `command` item has an unknown exit code), and reports usage per model',
    "  per turn (`_meta.quota`), priced from Yoke's price table.",
    "- **OpenCode** (`acp:opencode acp`): one provider at the runner's OpenAI-compatible endpoint (key from an env var),",
    '  every permission `ask` through `OPENCODE_PERMISSION` (applied after project config), project config, default',
    '  plugins, model list fetches and update checks off, `experimental.continue_loop_on_deny` so a refusal reaches the',
    '  model instead of ending the turn. Exit codes come from its `metadata.exit`; `apply_patch` edits become',
    '  `file_change` items with their diff. Usage is per turn; the egress proxy meters each model call.',
    '',
    'Any other ACP agent runs as it is configured: if it runs tools without asking, policies see those calls only after',
    'they ran, and its sessions say so at their first turn.',
    '',
    '## Steering a running turn',
    '',
    'A message sent while a turn runs joins that turn where the harness has a `steer` ✅; elsewhere it waits for a turn',
    'of its own (docs/architecture.md, "The path of an input"). How each harness takes it:',
    '',
    '- **yoke**: the agent loop adds the message before its next model call; a message that arrives while the model',
    '  writes its final answer gets an answer in the same turn.',
    "- **codex**: the app-server's `turn/steer` (with `expectedTurnId`, so it never lands in another turn).",
    "- **pi**: the RPC `steer` command: Pi adds the message after the running step's tool calls, before its next model",
    '  call, and checks for one before it ends the run.',
    '- **claude-code**, **claude-sdk**: not steered. Claude Code folds a `user` message that arrives on stdin while a tool',
    "  runs into that tool's result, but one that arrives while the model writes its final answer becomes a run of its",
    "  own after the turn's `result`, so the turn could end without it.",
    '- **openai-agents** and ACP agents: no way to add input to a running run (ACP has no such method).',
    '',
    '## What each column probes',
    '',
    '- **streaming**: `agent_message_delta`s arrive before the final `agent_message` and add up to its text.',
    "- **tool calls**: the scripted shell call (in the harness's own tool name) is reported as `tool_call` with the canonical",
    '  kind `shell`, asked of the permission hook, runs in the workspace (the file it writes exists) and has a `tool_result`.',
    '- **deny**: the hook refuses: no side effect on disk, an error `tool_result`, and the model is called again (it hears',
    '  the refusal).',
    '- **ask**: the hook takes 3 s to answer: the call does not run before the answer and runs after it.',
    '- **cost**: `usage` items carry the model and a cost > 0.',
    "- **interrupt**: `cancel()` ends a turn held at the model, then a turn running a command (the command's process",
    '  dies); the next turn works.',
    "- **steer**: `steer()` sends a message into a running turn twice: while the turn's shell call waits for its",
    '  permission, and while the model call that gives the final answer is held. Each time a model request of that same',
    '  turn carries the message before the turn ends (once, with `end_turn`), and no model call follows the turn.',
    '- **fork/resume**: a new session on the same state directory sends the earlier conversation to the model.',
    "- **model override**: the session's model (not the agent's) is named in every model request.",
    '',
    '## Observations',
    '',
  ];
  for (const r of reports) {
    lines.push(`### ${r.harness.label} (${r.seconds.toFixed(0)} s)`, '');
    for (const name of HARNESS_CAPABILITY_NAMES) {
      const o = r.results[name];
      lines.push(`- ${LABELS[name]}: ${o ? o.note.replace(/\|/g, '\\|') : 'not probed'}`);
    }
    for (const e of r.errors) lines.push(`- probe error: ${e}`);
    lines.push('');
  }
  return lines.join('\n');
}
