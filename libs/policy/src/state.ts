import type { ItemDraft } from '@yoke/protocol';
import { z } from 'zod';

/**
 * What the built-in policies remember about a session. A plain JSON object, bounded in size (no history): it is a
 * fold over the `stateUpdate` of the session's `policy_decision` items.
 */
export interface PolicyState {
  /** Tool calls that proceeded, all kinds together. */
  toolCalls: number;
  toolCallsByKind: Record<string, number>;
  /** Prompts that proceeded. */
  prompts: number;
  /** Model spend reported so far (USD). */
  spendUsd: number;
  /** Labels set by earlier calls (`after` policies): how many calls set each one, and the latest of them. */
  labels: Record<string, { count: number; last: string }>;
  /** Ask keys a human confirmed; sorted, unique. */
  confirmed: string[];
  /**
   * Actions a human approved "always for this session" (`grantKey`); sorted, unique, at most MAX_GRANTS. An ask from a
   * policy that allows it (`allow_always`, default true) is not asked again for them; a deny still denies. Absent in
   * states written before grants existed.
   */
  granted?: string[];
}

/** A change to apply to `PolicyState`; JSON. Every field is an increment or an addition. */
export interface StateUpdate {
  toolCalls?: Record<string, number>;
  prompts?: number;
  spendUsd?: number;
  labels?: Record<string, string>;
  confirm?: string[];
  /** Session grants to add (`grantKey`): from an approval answered `approve_session`. */
  grant?: string[];
}

const MAX_LABEL_SUMMARY = 200;
/** The longest grant key (a longer command is never offered "always for this session"), and the most a session keeps. */
export const MAX_GRANT_KEY = 2000;
export const MAX_GRANTS = 500;

const Count = z.number().int().nonnegative().max(1_000_000);
/** How a `stateUpdate` read back from the item log is checked before it is applied. */
export const StateUpdateSchema = z.object({
  toolCalls: z.record(z.string().max(300), Count).optional().catch(undefined),
  prompts: Count.optional().catch(undefined),
  spendUsd: z.number().finite().nonnegative().optional().catch(undefined),
  labels: z
    .record(z.string().max(200), z.string().max(MAX_LABEL_SUMMARY * 2))
    .optional()
    .catch(undefined),
  confirm: z.array(z.string().max(500)).max(100).optional().catch(undefined),
  grant: z.array(z.string().max(MAX_GRANT_KEY)).max(10).optional().catch(undefined),
});

export function initialState(): PolicyState {
  return { toolCalls: 0, toolCallsByKind: {}, prompts: 0, spendUsd: 0, labels: {}, confirmed: [] };
}

/** Pure: returns a new state; `state` is not modified. */
export function applyUpdate(state: PolicyState, update: StateUpdate): PolicyState {
  let next = state;
  const edit = (): PolicyState => (next === state ? (next = { ...state }) : next);
  if (update.toolCalls) {
    const byKind = { ...state.toolCallsByKind };
    let total = 0;
    for (const [kind, n] of Object.entries(update.toolCalls)) {
      if (kind === '__proto__') continue; // not a tool kind; assigning it would not count it, only skew the total
      byKind[kind] = (Object.hasOwn(byKind, kind) ? byKind[kind] : 0) + n;
      total += n;
    }
    if (total > 0) {
      edit().toolCallsByKind = byKind;
      next.toolCalls = state.toolCalls + total;
    }
  }
  if (update.prompts) edit().prompts = state.prompts + update.prompts;
  if (update.spendUsd) edit().spendUsd = state.spendUsd + update.spendUsd;
  if (update.labels && Object.keys(update.labels).length > 0) {
    const labels = { ...state.labels };
    for (const [label, summary] of Object.entries(update.labels)) {
      if (label === '__proto__') continue;
      const count = Object.hasOwn(labels, label) ? labels[label].count : 0;
      labels[label] = { count: count + 1, last: summary };
    }
    edit().labels = labels;
  }
  if (update.confirm && update.confirm.length > 0) {
    const confirmed = new Set(state.confirmed);
    const before = confirmed.size;
    for (const key of update.confirm) confirmed.add(key);
    if (confirmed.size !== before) edit().confirmed = [...confirmed].sort();
  }
  if (update.grant && update.grant.length > 0) {
    const granted = new Set(state.granted ?? []);
    const before = granted.size;
    for (const key of update.grant) if (granted.size < MAX_GRANTS) granted.add(key);
    if (granted.size !== before) edit().granted = [...granted].sort();
  }
  return next;
}

/**
 * Ask keys whose detail is `@call:<callId>` are about one call only (asking again for the next call is the point); confirming
 * them changes nothing. The others are remembered: that question is not asked again in this session.
 */
export function confirmUpdate(askKeys: string[]): StateUpdate {
  const confirm = askKeys.filter((k) => !isPerCallKey(k));
  return confirm.length > 0 ? { confirm: [...new Set(confirm)].sort() } : {};
}

/** The state change of an "always allow in this session" approval: the decision's grant is remembered. */
export function grantUpdate(sessionGrant: string): StateUpdate {
  return { grant: [sessionGrant] };
}

export function isPerCallKey(key: string): boolean {
  // `<type>:<level>:<name>:@call:<callId>`; names never contain `:`.
  return key.split(':', 4)[3] === '@call';
}

/** The state after one more item: only `policy_decision` items that carry a `stateUpdate` change it. */
export function foldItem(state: PolicyState, item: ItemDraft): PolicyState {
  if (item.type !== 'policy_decision' || item.stateUpdate === undefined || item.stateUpdate === null) return state;
  // Each field is checked on its own: a malformed field (hand-edited log, newer engine) is skipped, the rest applies.
  const parsed = StateUpdateSchema.safeParse(item.stateUpdate);
  return parsed.success ? applyUpdate(state, parsed.data) : state;
}

export function rebuildState(items: Iterable<ItemDraft>): PolicyState {
  let state = initialState();
  for (const item of items) state = foldItem(state, item);
  return state;
}
