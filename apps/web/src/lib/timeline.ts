import { mergeSnapshot } from '@yoke/client';
import type { Delta, Item, PartialItem } from '@yoke/protocol';

/**
 * The live view of one session as a pure reducer: persisted items in `seq` order (the sequencer guarantees
 * once each, no gaps) plus the streaming bubbles of in-progress items built from ephemeral deltas.
 *
 * Each message shows in exactly one bubble: a stream is removed by the persisted item that completes it
 * (agent_message / reasoning with the same `streamId`, command with the same `callId`) or by the end of its
 * turn, and late deltas for a completed stream are ignored.
 */
export type StreamKind = 'agent_message' | 'reasoning' | 'command_output';

export type Stream = { streamId: string; kind: StreamKind; turnId: string; callId?: string; text: string };

export type TimelineState = {
  items: Item[];
  /** In order of first appearance. */
  streams: Stream[];
  settledStreamIds: ReadonlySet<string>;
  settledCallIds: ReadonlySet<string>;
  endedTurnIds: ReadonlySet<string>;
};

export type TimelineAction =
  | { type: 'items'; items: Item[] }
  | { type: 'delta'; delta: Delta }
  /** After a (re)join: the server's snapshot of the streams, plus the deltas that arrived while joining. */
  | { type: 'seed'; partials: PartialItem[]; buffered: Delta[] }
  | { type: 'reset' };

export const EMPTY_TIMELINE: TimelineState = {
  items: [],
  streams: [],
  settledStreamIds: new Set(),
  settledCallIds: new Set(),
  endedTurnIds: new Set(),
};

const KIND: Record<Delta['type'], StreamKind> = {
  agent_message_delta: 'agent_message',
  reasoning_delta: 'reasoning',
  command_output_delta: 'command_output',
};

function isSettled(state: TimelineState, s: { streamId: string; turnId: string; callId?: string }): boolean {
  return (
    state.settledStreamIds.has(s.streamId) ||
    state.endedTurnIds.has(s.turnId) ||
    (s.callId !== undefined && state.settledCallIds.has(s.callId))
  );
}

function applyItems(state: TimelineState, items: Item[]): TimelineState {
  if (items.length === 0) return state;
  const streamIds = new Set(state.settledStreamIds);
  const callIds = new Set(state.settledCallIds);
  const turnIds = new Set(state.endedTurnIds);
  for (const item of items) {
    if ((item.type === 'agent_message' || item.type === 'reasoning') && item.streamId) streamIds.add(item.streamId);
    else if (item.type === 'command') callIds.add(item.callId);
    else if ((item.type === 'turn_completed' || item.type === 'turn_failed') && item.turnId) turnIds.add(item.turnId);
  }
  const next = { ...state, settledStreamIds: streamIds, settledCallIds: callIds, endedTurnIds: turnIds };
  return { ...next, items: [...state.items, ...items], streams: state.streams.filter((s) => !isSettled(next, s)) };
}

function applyDelta(state: TimelineState, delta: Delta): TimelineState {
  const callId = delta.type === 'command_output_delta' ? delta.callId : undefined;
  if (isSettled(state, { streamId: delta.streamId, turnId: delta.turnId, callId })) return state;
  const index = state.streams.findIndex((s) => s.streamId === delta.streamId);
  if (index === -1) {
    const stream: Stream = { streamId: delta.streamId, kind: KIND[delta.type], turnId: delta.turnId, text: delta.text };
    if (callId !== undefined) stream.callId = callId;
    return { ...state, streams: [...state.streams, stream] };
  }
  const streams = state.streams.slice();
  streams[index] = { ...streams[index], text: streams[index].text + delta.text };
  return { ...state, streams };
}

function applySeed(state: TimelineState, partials: PartialItem[], buffered: Delta[]): TimelineState {
  const streams: Stream[] = [];
  const seen = new Set<string>();
  for (const p of partials) {
    if (seen.has(p.streamId) || isSettled(state, p)) continue;
    seen.add(p.streamId);
    const own = buffered.filter((d) => d.streamId === p.streamId).map((d) => d.text);
    const stream: Stream = {
      streamId: p.streamId,
      kind: KIND[p.type],
      turnId: p.turnId,
      text: mergeSnapshot(p.text, own),
    };
    if (p.callId !== undefined) stream.callId = p.callId;
    streams.push(stream);
  }
  let next: TimelineState = { ...state, streams };
  for (const d of buffered) if (!seen.has(d.streamId)) next = applyDelta(next, d);
  return next;
}

export function timelineReducer(state: TimelineState, action: TimelineAction): TimelineState {
  switch (action.type) {
    case 'items':
      return applyItems(state, action.items);
    case 'delta':
      return applyDelta(state, action.delta);
    case 'seed':
      return applySeed(state, action.partials, action.buffered);
    case 'reset':
      return EMPTY_TIMELINE;
  }
}
