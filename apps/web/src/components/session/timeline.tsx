'use client';

import { useCallback, useMemo, useState } from 'react';
import { RowView } from '@/components/session/item-view';
import { TurnPromptContext } from '@/components/session/items/turn-failed';
import { StreamView } from '@/components/session/stream-view';
import { useHashHighlight, VirtualRows } from '@/components/session/virtual-rows';
import { useStickToBottom } from '@/hooks/use-stick-to-bottom';
import { foldItems, isRoutine } from '@/lib/conversation';
import type { Stream, TimelineState } from '@/lib/timeline';
import { promptOfTurn } from '@/lib/turn-failure';

/** Past this many rows only the rows near the window are drawn (VirtualRows): a long session stays smooth. */
export const VIRTUALIZE_AFTER_ROWS = 200;

/**
 * The conversation: items folded into rows (lib/conversation), then the streams still in progress. A running
 * command's live output shows in its tool action row. `sentKey` changes when this reader sends a message: the view
 * then follows the bottom again even if they had scrolled up.
 */
export function Timeline({
  timeline,
  isLoading,
  sentKey,
}: {
  timeline: TimelineState;
  isLoading: boolean;
  sentKey: number;
}) {
  const { items, streams } = timeline;
  const [showAllowed, setShowAllowed] = useState(false);
  const rows = useMemo(() => foldItems(items, { showAllowed }), [items, showAllowed]);
  const allowedCount = useMemo(() => items.filter(isRoutine).length, [items]);
  // A failed turn's Retry sends what that turn was asked.
  const promptOf = useCallback((turnId: string) => promptOfTurn(items, turnId), [items]);

  const { attached, loose } = useMemo(() => {
    const callIds = new Set(rows.flatMap((r) => (r.kind === 'tool' ? [r.action.callId] : [])));
    const attachedOutput = new Map<string, string>();
    const looseStreams: Stream[] = [];
    for (const s of streams) {
      if (s.kind === 'command_output' && s.callId !== undefined && callIds.has(s.callId)) {
        attachedOutput.set(s.callId, (attachedOutput.get(s.callId) ?? '') + s.text);
      } else looseStreams.push(s);
    }
    return { attached: attachedOutput, loose: looseStreams };
  }, [streams, rows]);

  const lastText = streams.length ? streams[streams.length - 1].text.length : 0;
  // A virtual list's height settles as its rows are measured: the view follows that too.
  const [virtualHeight, setVirtualHeight] = useState(0);
  useStickToBottom(`${items.length}:${streams.length}:${lastText}:${virtualHeight}`, sentKey);
  const isVirtual = rows.length > VIRTUALIZE_AFTER_ROWS;
  useHashHighlight(rows.length > 0);

  if (items.length === 0 && streams.length === 0) {
    return <p className="empty">{isLoading ? 'Loading session…' : 'Nothing here yet. Send a message to start.'}</p>;
  }
  return (
    <TurnPromptContext.Provider value={promptOf}>
      {allowedCount > 0 && (
        <label className="timeline-filter small muted">
          <input
            type="checkbox"
            checked={showAllowed}
            onChange={(e) => setShowAllowed(e.target.checked)}
            data-testid="show-allowed"
          />{' '}
          Show allowed decisions ({allowedCount})
        </label>
      )}
      {isVirtual ? (
        <>
          <VirtualRows rows={rows} attached={attached} onSize={setVirtualHeight} />
          {loose.length > 0 && (
            <ol className="timeline timeline-streams" data-testid="streams">
              {loose.map((s) => (
                <StreamView key={s.streamId} stream={s} />
              ))}
            </ol>
          )}
        </>
      ) : (
        <ol className="timeline" data-testid="timeline" aria-live="polite" aria-relevant="additions">
          {rows.map((row) => (
            <RowView
              key={row.key}
              row={row}
              liveOutput={row.kind === 'tool' ? attached.get(row.action.callId) : undefined}
            />
          ))}
          {loose.map((s) => (
            <StreamView key={s.streamId} stream={s} />
          ))}
        </ol>
      )}
    </TurnPromptContext.Provider>
  );
}
