import {
  APPROVE_SESSION,
  type Delta,
  type Item,
  type PresenceViewer,
  type Session,
  type SessionAccess,
} from '@yoke/protocol';
import { type ToolStatus, toolSummary } from './format';

/**
 * What the terminal UI shows of one session, as a pure fold over the session's items, deltas, presence and the
 * user's local commands. The Ink view renders it; nothing here knows about the terminal.
 */

interface EntryBase {
  key: string;
  /** Finished entries never change again: the view prints them once, above the live area. */
  done: boolean;
}
export interface UserEntry extends EntryBase {
  kind: 'user';
  author: string;
  isMine: boolean;
  text: string;
}
export interface AgentEntry extends EntryBase {
  kind: 'agent' | 'reasoning';
  text: string;
  /** The turn failed before this message was finished: the text is what had arrived (`agent_message.partial`). */
  isPartial?: boolean;
}
export interface ToolEntry extends EntryBase {
  kind: 'tool';
  callId: string;
  tool: string;
  summary: string;
  status: ToolStatus;
  startedAt: number;
  endedAt: number | null;
  output: string;
  exitCode: number | null | undefined;
  /** A policy refused the call: its error result is shown as denied, not failed. */
  isDenied: boolean;
}
export interface DiffEntry extends EntryBase {
  kind: 'diff';
  path: string;
  diff: string;
}
export interface ApprovalEntry extends EntryBase {
  kind: 'approval';
  approvalId: string;
  policy: string;
  reason: string;
  /** Whether "always for this session" may be chosen. */
  offersSession: boolean;
  decision: string | null;
  decidedBy: string | null;
}
export interface NoteEntry extends EntryBase {
  kind: 'note';
  level: 'info' | 'warning' | 'error' | 'dim';
  text: string;
}
export interface BlockEntry extends EntryBase {
  kind: 'block';
  title: string;
  text: string;
}
export type Entry = UserEntry | AgentEntry | ToolEntry | DiffEntry | ApprovalEntry | NoteEntry | BlockEntry;

export interface UsageTally {
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export interface ChatState {
  session: Session | null;
  access: SessionAccess | null;
  entries: Entry[];
  /** streamId -> key of the entry its deltas grow. */
  streams: Record<string, string>;
  /** callId -> key of its tool entry. */
  tools: Record<string, string>;
  lastToolKey: string | null;
  isTurnRunning: boolean;
  isCancelling: boolean;
  viewers: PresenceViewer[];
  /** Per model, from the items: metered at the proxy, and as the harness reported. */
  metered: Record<string, UsageTally>;
  reported: Record<string, UsageTally>;
  /** Applied to the next prompt sent (`/harness`, `/model`). */
  nextHarness: string | null;
  nextModel: string | null;
  /** A counter for the keys of local entries. */
  localCount: number;
  /** The seq of the last item seen. */
  lastSeq: number;
}

export type ChatAction =
  | { type: 'reset' }
  | { type: 'session'; session: Session }
  | { type: 'access'; access: SessionAccess }
  | { type: 'item'; item: Item }
  | { type: 'delta'; delta: Delta }
  | { type: 'presence'; viewers: PresenceViewer[] }
  | { type: 'note'; level: NoteEntry['level']; text: string }
  | { type: 'block'; title: string; text: string }
  | { type: 'next'; harness?: string | null; model?: string | null }
  | { type: 'cancelling' }
  | { type: 'expand' };

export function initialChatState(): ChatState {
  return {
    session: null,
    access: null,
    entries: [],
    streams: {},
    tools: {},
    lastToolKey: null,
    isTurnRunning: false,
    isCancelling: false,
    viewers: [],
    metered: {},
    reported: {},
    nextHarness: null,
    nextModel: null,
    localCount: 0,
    lastSeq: 0,
  };
}

export function chatReducer(state: ChatState, action: ChatAction): ChatState {
  switch (action.type) {
    case 'reset':
      return { ...initialChatState(), nextHarness: state.nextHarness, nextModel: state.nextModel };
    case 'session':
      // Whether a turn runs is read from the items (turn_started .. turn_completed), which arrive in order; the
      // session's status travels apart from them and may lag.
      return { ...state, session: action.session };
    case 'access':
      return { ...state, access: action.access };
    case 'presence':
      return { ...state, viewers: action.viewers };
    case 'note':
      return local(state, (key) => ({ kind: 'note', key, done: true, level: action.level, text: action.text }));
    case 'block':
      return local(state, (key) => ({ kind: 'block', key, done: true, title: action.title, text: action.text }));
    case 'next':
      return {
        ...state,
        nextHarness: action.harness === undefined ? state.nextHarness : action.harness,
        nextModel: action.model === undefined ? state.nextModel : action.model,
      };
    case 'cancelling':
      return { ...state, isCancelling: true };
    case 'expand': {
      const tool = state.entries.find((e): e is ToolEntry => e.key === state.lastToolKey && e.kind === 'tool');
      if (!tool) return chatReducer(state, { type: 'note', level: 'dim', text: 'no tool call to expand yet' });
      return chatReducer(state, {
        type: 'block',
        title: `${tool.tool} ${tool.summary}`,
        text: tool.output.trimEnd() || '(no output)',
      });
    }
    case 'delta':
      return applyDelta(state, action.delta);
    case 'item': {
      const next = applyItem(state, action.item);
      return { ...next, lastSeq: Math.max(next.lastSeq, action.item.seq) };
    }
  }
}

/** The entries that are finished, in order: those before the first one still changing. */
export function committedCount(entries: Entry[]): number {
  const i = entries.findIndex((e) => !e.done);
  return i === -1 ? entries.length : i;
}

/** The approval this terminal is asked now: the oldest undecided one. */
export function pendingApproval(state: ChatState): ApprovalEntry | null {
  return state.entries.find((e): e is ApprovalEntry => e.kind === 'approval' && !e.done) ?? null;
}

/** Tokens and cost so far: metered at the proxy when there is any, else as the harness reported. */
export function usageTotals(state: ChatState): UsageTally {
  const source = Object.keys(state.metered).length ? state.metered : state.reported;
  const sum = Object.values(source).reduce(
    (a, u) => ({
      inputTokens: a.inputTokens + u.inputTokens,
      outputTokens: a.outputTokens + u.outputTokens,
      costUsd: a.costUsd + u.costUsd,
    }),
    { inputTokens: 0, outputTokens: 0, costUsd: 0 },
  );
  // The session's own totals cover turns before this view started following it.
  const s = state.session;
  if (s && s.inputTokens + s.outputTokens > sum.inputTokens + sum.outputTokens) {
    return { inputTokens: s.inputTokens, outputTokens: s.outputTokens, costUsd: Math.max(s.costUsd, sum.costUsd) };
  }
  return sum;
}

/** Whether an `approval_request` lets the approver answer "always for this session". */
export function offersSessionApproval(item: Extract<Item, { type: 'approval_request' }>): boolean {
  return item.canApproveForSession ?? item.options.includes(APPROVE_SESSION);
}

function local(state: ChatState, make: (key: string) => Entry): ChatState {
  const key = `local:${state.localCount}`;
  return { ...state, localCount: state.localCount + 1, entries: [...state.entries, make(key)] };
}

function append(state: ChatState, entry: Entry): ChatState {
  return { ...state, entries: [...state.entries, entry] };
}

function update<E extends Entry>(state: ChatState, key: string, change: (e: E) => E): ChatState {
  return { ...state, entries: state.entries.map((e) => (e.key === key ? change(e as E) : e)) };
}

function applyDelta(state: ChatState, d: Delta): ChatState {
  if (d.type === 'command_output_delta') {
    const key = state.tools[d.callId];
    if (!key) return state;
    return update<ToolEntry>(state, key, (t) => (t.done ? t : { ...t, output: t.output + d.text }));
  }
  const key = state.streams[d.streamId];
  if (key) return update<AgentEntry>(state, key, (e) => (e.done ? e : { ...e, text: e.text + d.text }));
  const kind = d.type === 'agent_message_delta' ? 'agent' : 'reasoning';
  const entry: AgentEntry = { kind, key: `stream:${d.streamId}`, done: false, text: d.text };
  return { ...append(state, entry), streams: { ...state.streams, [d.streamId]: entry.key }, isTurnRunning: true };
}

function tally(into: Record<string, UsageTally>, model: string, add: UsageTally): Record<string, UsageTally> {
  const was = into[model] ?? { inputTokens: 0, outputTokens: 0, costUsd: 0 };
  return {
    ...into,
    [model]: {
      inputTokens: was.inputTokens + add.inputTokens,
      outputTokens: was.outputTokens + add.outputTokens,
      costUsd: was.costUsd + add.costUsd,
    },
  };
}

function textOf(item: Extract<Item, { type: 'user_message' }>): string {
  return item.content.map((c) => (c.type === 'text' ? c.text : `[${c.path}]`)).join(' ');
}

function applyItem(state: ChatState, item: Item): ChatState {
  const key = `seq:${item.seq}`;
  const at = Date.parse(item.createdAt);
  switch (item.type) {
    case 'turn_started':
      return { ...state, isTurnRunning: true };
    case 'user_message': {
      const mine = state.access?.actor.id;
      return {
        ...append(state, {
          kind: 'user',
          key,
          done: true,
          author: item.actor?.name || 'user',
          isMine: !item.actor || item.actor.id === mine,
          text: textOf(item),
        }),
        isTurnRunning: true,
      };
    }
    case 'agent_message':
    case 'reasoning': {
      const kind = item.type === 'agent_message' ? 'agent' : 'reasoning';
      const partial = item.type === 'agent_message' && item.partial ? { isPartial: true } : {};
      const streamed = item.streamId ? state.streams[item.streamId] : undefined;
      if (streamed) {
        return update<AgentEntry>(state, streamed, (e) => ({ ...e, text: item.text, done: true, ...partial }));
      }
      if (!item.text.trim()) return state;
      return append(state, { kind, key, done: true, text: item.text, ...partial });
    }
    case 'tool_call': {
      const entry: ToolEntry = {
        kind: 'tool',
        key,
        done: false,
        callId: item.callId,
        tool: item.nativeTool || item.tool,
        summary: toolSummary(item.input),
        status: 'running',
        startedAt: at,
        endedAt: null,
        output: '',
        exitCode: undefined,
        isDenied: false,
      };
      return { ...append(state, entry), tools: { ...state.tools, [item.callId]: key }, lastToolKey: key };
    }
    case 'command': {
      const known = state.tools[item.callId];
      if (!known) {
        const entry: ToolEntry = {
          kind: 'tool',
          key,
          done: true,
          callId: item.callId,
          tool: 'shell',
          summary: `$ ${item.argv.join(' ')}`,
          status: item.exitCode === 0 ? 'ok' : 'failed',
          startedAt: at,
          endedAt: at,
          output: item.output,
          exitCode: item.exitCode,
          isDenied: false,
        };
        return { ...append(state, entry), tools: { ...state.tools, [item.callId]: key }, lastToolKey: key };
      }
      return update<ToolEntry>(state, known, (t) => ({ ...t, output: item.output, exitCode: item.exitCode }));
    }
    case 'tool_result': {
      const known = state.tools[item.callId];
      if (!known) return state;
      return update<ToolEntry>(state, known, (t) => ({
        ...t,
        done: true,
        status: !item.isError ? 'ok' : t.isDenied ? 'denied' : 'failed',
        endedAt: at,
        // A command's own output is the better record; the result text stands in when there was none.
        output: t.output.trim() ? t.output : item.output,
      }));
    }
    case 'policy_decision': {
      const known = item.callId ? state.tools[item.callId] : undefined;
      if (!known || item.verdict !== 'deny') return state;
      return update<ToolEntry>(state, known, (t) => ({ ...t, isDenied: true }));
    }
    case 'file_change':
      return append(state, { kind: 'diff', key, done: true, path: item.path, diff: item.diff });
    case 'approval_request':
      return append(state, {
        kind: 'approval',
        key,
        done: false,
        approvalId: item.approvalId,
        policy: item.policy,
        reason: item.reason,
        offersSession: offersSessionApproval(item),
        decision: null,
        decidedBy: null,
      });
    case 'approval_decision': {
      const request = state.entries.find(
        (e): e is ApprovalEntry => e.kind === 'approval' && e.approvalId === item.approvalId,
      );
      let next = state;
      if (request) {
        next = update<ApprovalEntry>(state, request.key, (a) => ({
          ...a,
          done: true,
          decision: item.decision,
          decidedBy: item.actor?.name ?? null,
        }));
      }
      return next;
    }
    case 'usage':
      return {
        ...state,
        reported: tally(state.reported, item.model, {
          inputTokens: item.inputTokens,
          outputTokens: item.outputTokens,
          costUsd: item.costUsd,
        }),
      };
    case 'metered_usage':
      return {
        ...state,
        metered: tally(state.metered, item.model, {
          inputTokens: item.inputTokens + item.cacheReadTokens + item.cacheWriteTokens,
          outputTokens: item.outputTokens,
          costUsd: item.costMicros / 1_000_000,
        }),
      };
    case 'turn_completed': {
      const ended = endTurn(state, at, item.stopReason === 'cancelled');
      if (item.stopReason === 'end_turn') return ended;
      const text = item.stopReason === 'cancelled' ? 'turn cancelled' : `turn stopped: ${item.stopReason}`;
      return append(ended, { kind: 'note', key, done: true, level: 'warning', text });
    }
    case 'turn_failed':
      return append(endTurn(state, at, false), {
        kind: 'note',
        key,
        done: true,
        level: 'error',
        text: `turn failed: ${item.error}`,
      });
    case 'notice':
      return append(state, { kind: 'note', key, done: true, level: item.level, text: item.text });
    case 'egress':
      if (item.decision !== 'denied') return state;
      return append(state, {
        kind: 'note',
        key,
        done: true,
        level: 'error',
        text: `egress denied: ${item.method} ${item.host}:${item.port}${item.path ?? ''}${item.reason ? ` (${item.reason})` : ''}`,
      });
  }
}

/** A turn ended: whatever it left open is closed (a cancelled call, a stream without its final item). */
function endTurn(state: ChatState, at: number, isCancelled: boolean): ChatState {
  return {
    ...state,
    isTurnRunning: false,
    isCancelling: false,
    entries: state.entries.map((e): Entry => {
      if (e.done) return e;
      if (e.kind === 'tool') return { ...e, done: true, status: isCancelled ? 'cancelled' : 'failed', endedAt: at };
      if (e.kind === 'approval') return { ...e, done: true, decision: e.decision ?? 'expired' };
      return { ...e, done: true };
    }),
  };
}
