import type { Item } from '@yoke/protocol';
import { formatArgv } from '@/lib/format';

/**
 * The session's items folded into what a reader follows: one row per message, per tool action (its call, command
 * and result together) and per decision worth reading. Pure, so the folding is tested without a browser; the
 * timeline renders the rows.
 */
type ItemOf<T extends Item['type']> = Extract<Item, { type: T }>;

export type ToolAction = {
  callId: string;
  call: ItemOf<'tool_call'> | null;
  command: ItemOf<'command'> | null;
  result: ItemOf<'tool_result'> | null;
};

export type Row =
  | { kind: 'item'; key: string; seqs: number[]; item: Item; call: ItemOf<'tool_call'> | null }
  | { kind: 'tool'; key: string; seqs: number[]; action: ToolAction };

/** Allowed policy decisions are routine; they are left out unless asked for. */
export function isRoutine(item: Item): boolean {
  return item.type === 'policy_decision' && item.verdict === 'allow';
}

export function foldItems(items: Item[], options: { showAllowed: boolean }): Row[] {
  const rows: Row[] = [];
  const actions = new Map<string, Extract<Row, { kind: 'tool' }>>();
  const calls = new Map<string, ItemOf<'tool_call'>>();
  for (const item of items) if (item.type === 'tool_call') calls.set(item.callId, item);
  for (const item of items) {
    if (item.type === 'tool_call' || item.type === 'command' || item.type === 'tool_result') {
      let row = actions.get(item.callId);
      if (!row) {
        row = {
          kind: 'tool',
          key: `tool-${item.callId}`,
          seqs: [],
          action: { callId: item.callId, call: null, command: null, result: null },
        };
        actions.set(item.callId, row);
        rows.push(row);
      }
      row.seqs.push(item.seq);
      if (item.type === 'tool_call') row.action.call = item;
      else if (item.type === 'command') row.action.command = item;
      else row.action.result = item;
      continue;
    }
    if (isRoutine(item) && !options.showAllowed) continue;
    const callId = item.type === 'approval_request' ? item.callId : undefined;
    rows.push({
      kind: 'item',
      key: `item-${item.seq}`,
      seqs: [item.seq],
      item,
      call: callId ? (calls.get(callId) ?? null) : null,
    });
  }
  return rows;
}

const SHELL = /(^|\/)(ba|z|da)?sh$/;
const QUOTED_SHELL = /^(?:\/(?:usr\/)?bin\/)?(?:ba|z)?sh\s+-l?c\s+'((?:[^']|'\\'')*)'\s*$/s;

/** The command a person typed, without the `bash -lc '…'` the harness wraps it in. */
export function unwrapShell(argv: string[]): string {
  if (argv.length === 3 && SHELL.test(argv[0]) && /^-(l?c|cl)$/.test(argv[1])) return argv[2];
  return unwrapShellText(formatArgv(argv));
}

export function unwrapShellText(command: string): string {
  const m = QUOTED_SHELL.exec(command);
  return m ? m[1].replace(/'\\''/g, "'") : command;
}

const EXIT_SUFFIX = /\n?\[exit code: (-?\d+)\]\s*$/;

/** A tool result's output without the `[exit code: N]` line the row already shows, and that code. */
export function splitExitCode(output: string): { output: string; exitCode: number | null } {
  const m = EXIT_SUFFIX.exec(output);
  if (!m) return { output, exitCode: null };
  return { output: output.slice(0, m.index), exitCode: Number(m[1]) };
}

const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);

/** A one-line gist of a tool's input (the command, the path, the query) when it has an obvious one. */
export function inputGist(input: unknown): string | null {
  if (typeof input !== 'object' || input === null) return str(input);
  const o = input as Record<string, unknown>;
  if (Array.isArray(o.argv) && o.argv.every((a) => typeof a === 'string')) return unwrapShell(o.argv as string[]);
  const command = str(o.command) ?? str(o.cmd);
  if (command) return unwrapShellText(command);
  return str(o.path) ?? str(o.file_path) ?? str(o.pattern) ?? str(o.query) ?? str(o.url);
}

export type ActionState = 'running' | 'ok' | 'failed' | 'denied';

export type ActionSummary = {
  verb: string;
  /** The command, path or query, shown as code. */
  target: string | null;
  state: ActionState;
  exitCode: number | null;
  durationMs: number | null;
  output: string;
};

const VERBS: Record<string, [running: string, done: string]> = {
  shell: ['Running', 'Ran'],
  file_read: ['Reading', 'Read'],
  file_write: ['Writing', 'Wrote'],
  file_edit: ['Editing', 'Edited'],
  file_list: ['Listing', 'Listed'],
  search: ['Searching', 'Searched'],
  web_fetch: ['Fetching', 'Fetched'],
  web_search: ['Searching the web for', 'Searched the web for'],
};

function toolName(tool: string): string {
  if (tool.startsWith('mcp:')) return tool.slice(4);
  if (tool.startsWith('other:')) return tool.slice(6);
  return tool;
}

export function summarizeAction(a: ToolAction): ActionSummary {
  const tool = a.call?.tool ?? 'shell';
  const fromResult = a.result ? splitExitCode(a.result.output) : { output: '', exitCode: null };
  const exitCode = a.command ? a.command.exitCode : fromResult.exitCode;
  const output = a.command?.output ? a.command.output : fromResult.output;
  const target = a.command ? unwrapShell(a.command.argv) : a.call ? inputGist(a.call.input) : null;
  const done = a.result ?? a.command;
  let state: ActionState;
  if (a.call?.status === 'denied') state = 'denied';
  else if (a.result?.isError || a.call?.status === 'failed' || (exitCode !== null && exitCode !== 0)) state = 'failed';
  else if (done || a.call?.status === 'completed') state = 'ok';
  else state = 'running';
  const started = a.call ? Date.parse(a.call.createdAt) : NaN;
  const ended = done ? Date.parse(done.createdAt) : NaN;
  const durationMs =
    state !== 'denied' && Number.isFinite(started) && Number.isFinite(ended) && ended >= started
      ? ended - started
      : null;
  const verbs = VERBS[tool];
  const name = toolName(tool);
  const verb =
    state === 'denied'
      ? 'Blocked'
      : verbs
        ? verbs[state === 'running' ? 0 : 1]
        : `${state === 'running' ? 'Calling' : 'Called'} ${name}`;
  return { verb, target, state, exitCode, durationMs, output };
}

/** "0.4 s", "12 s", "2 min 5 s". */
export function formatDuration(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  return `${Math.floor(s / 60)} min${s % 60 ? ` ${s % 60} s` : ''}`;
}
