import { type DeltaEvent, MAX_TEXT_CHARS } from '@yoke/protocol';

/** One delta to send, standing for `count` chunks the runner sent. */
export interface Coalesced {
  event: DeltaEvent;
  count: number;
}

/**
 * Merges each run of consecutive chunks of the same stream (same session, kind, turn, stream and command) into one
 * delta whose text is theirs in order, up to the protocol's text limit. Viewers append chunk texts, so what they
 * show is the same; they get one frame instead of several. Order is kept; the input is not modified.
 */
export function coalesceDeltas(events: readonly DeltaEvent[]): Coalesced[] {
  const out: Coalesced[] = [];
  let last: Coalesced | undefined;
  for (const event of events) {
    if (
      last &&
      sameStream(last.event, event) &&
      last.event.delta.text.length + event.delta.text.length <= MAX_TEXT_CHARS
    ) {
      // The merged text is shown after the later chunk's item, which is never before the earlier one's.
      last.event = {
        ...last.event,
        afterSeq: Math.max(last.event.afterSeq, event.afterSeq),
        delta: { ...last.event.delta, text: last.event.delta.text + event.delta.text },
      };
      last.count++;
      continue;
    }
    last = { event, count: 1 };
    out.push(last);
  }
  return out;
}

function sameStream(a: DeltaEvent, b: DeltaEvent): boolean {
  const x = a.delta;
  const y = b.delta;
  return (
    a.sessionId === b.sessionId &&
    x.type === y.type &&
    x.turnId === y.turnId &&
    x.streamId === y.streamId &&
    (x.type === 'command_output_delta' ? x.callId : undefined) ===
      (y.type === 'command_output_delta' ? y.callId : undefined)
  );
}
