'use client';

import type { Item } from '@yoke/protocol';
import { useMemo } from 'react';
import { ItemView } from '@/components/session/item-view';
import { StreamView } from '@/components/session/stream-view';
import { useStickToBottom } from '@/hooks/use-stick-to-bottom';
import type { Stream, TimelineState } from '@/lib/timeline';

/** The last tool_call item of each callId: where a running command's live output is shown. */
function lastToolCalls(items: Item[]): Map<string, number> {
  const bySeq = new Map<string, number>();
  for (const item of items) if (item.type === 'tool_call') bySeq.set(item.callId, item.seq);
  return bySeq;
}

/**
 * What became of each tool call: items are immutable, so a call's `pending` is superseded by its result
 * (completed, or failed when the result is an error).
 */
function toolOutcomes(items: Item[]): Map<string, 'completed' | 'failed'> {
  const outcomes = new Map<string, 'completed' | 'failed'>();
  for (const item of items)
    if (item.type === 'tool_result') outcomes.set(item.callId, item.isError ? 'failed' : 'completed');
  return outcomes;
}

export function Timeline({ timeline, isLoading }: { timeline: TimelineState; isLoading: boolean }) {
  const { items, streams } = timeline;
  const toolCalls = useMemo(() => lastToolCalls(items), [items]);
  const outcomes = useMemo(() => toolOutcomes(items), [items]);

  const { attached, loose } = useMemo(() => {
    const attachedOutput = new Map<number, string>();
    const looseStreams: Stream[] = [];
    for (const s of streams) {
      const seq = s.kind === 'command_output' && s.callId !== undefined ? toolCalls.get(s.callId) : undefined;
      if (seq === undefined) looseStreams.push(s);
      else attachedOutput.set(seq, (attachedOutput.get(seq) ?? '') + s.text);
    }
    return { attached: attachedOutput, loose: looseStreams };
  }, [streams, toolCalls]);

  const lastText = streams.length ? streams[streams.length - 1].text.length : 0;
  useStickToBottom(`${items.length}:${streams.length}:${lastText}`);

  if (items.length === 0 && streams.length === 0) {
    return <p className="empty">{isLoading ? 'Loading session…' : 'Nothing here yet. Send a message to start.'}</p>;
  }
  return (
    <ol className="timeline" data-testid="timeline" aria-live="polite" aria-relevant="additions">
      {items.map((item) => (
        <ItemView
          key={item.seq}
          item={item}
          liveOutput={attached.get(item.seq)}
          toolOutcome={item.type === 'tool_call' ? outcomes.get(item.callId) : undefined}
        />
      ))}
      {loose.map((s) => (
        <StreamView key={s.streamId} stream={s} />
      ))}
    </ol>
  );
}
