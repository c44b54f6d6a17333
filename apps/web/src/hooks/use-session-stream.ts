'use client';

import type { Session } from '@yoke/protocol';
import { useEffect, useReducer, useState } from 'react';
import { useSocket } from '@/components/socket-provider';
import { SessionFeed, type FeedPhase } from '@yoke/client';
import { fetchItems } from '@/lib/api';
import { EMPTY_TIMELINE, timelineReducer, type TimelineState } from '@/lib/timeline';

export type SessionStream = {
  session: Session | null;
  timeline: TimelineState;
  phase: FeedPhase;
  historyError: string | null;
  feed: SessionFeed;
};

/**
 * Live state of one session. Mount it under `key={sessionId}`: the feed (and its sequencer) lives as long as
 * the component, across reconnects and socket replacements.
 */
export function useSessionStream(sessionId: string): SessionStream {
  const { socket } = useSocket();
  const [timeline, dispatch] = useReducer(timelineReducer, EMPTY_TIMELINE);
  const [session, setSession] = useState<Session | null>(null);
  const [phase, setPhase] = useState<FeedPhase>({ phase: 'joining' });
  const [historyError, setHistoryError] = useState<string | null>(null);
  const [feed] = useState(
    () =>
      new SessionFeed(
        sessionId,
        {
          items: (items) => dispatch({ type: 'items', items }),
          delta: (delta) => dispatch({ type: 'delta', delta }),
          seed: (partials, buffered) => dispatch({ type: 'seed', partials, buffered }),
          session: (next) =>
            setSession((prev) => (!prev || Date.parse(next.updatedAt) >= Date.parse(prev.updatedAt) ? next : prev)),
          phase: setPhase,
          historyError: setHistoryError,
        },
        fetchItems,
      ),
  );

  useEffect(() => (socket ? feed.attach(socket) : undefined), [feed, socket]);

  return { session, timeline, phase, historyError, feed };
}
