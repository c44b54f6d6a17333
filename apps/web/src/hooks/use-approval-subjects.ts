'use client';

import type { Approval, Item } from '@yoke/protocol';
import { useEffect, useRef, useState } from 'react';
import { fetchItems } from '@/lib/api';
import { getSession } from '@/lib/collab-api';

type ToolCall = Extract<Item, { type: 'tool_call' }>;

export type ApprovalSubjects = {
  /** Session id to title; absent while loading. */
  titles: ReadonlyMap<string, string>;
  /** `sessionId/callId` to the tool call waiting; null when there is none to find. */
  calls: ReadonlyMap<string, ToolCall | null>;
};

const MAX_PAGES = 40;

async function findCall(sessionId: string, callId: string): Promise<ToolCall | null> {
  let after = 0;
  for (let page = 0; page < MAX_PAGES; page++) {
    const { items, lastSeq, hasMore } = await fetchItems(sessionId, after);
    const call = items.filter((i): i is ToolCall => i.type === 'tool_call' && i.callId === callId).pop();
    if (call) return call;
    if (!hasMore || lastSeq <= after) return null;
    after = lastSeq;
  }
  return null;
}

/**
 * What each approval in the inbox is about: its session's title and the tool call it holds (the command or input a
 * person is asked to allow), read from the session's own items. Each is looked up once.
 */
export function useApprovalSubjects(approvals: Approval[] | null): ApprovalSubjects {
  const [titles, setTitles] = useState<ReadonlyMap<string, string>>(new Map());
  const [calls, setCalls] = useState<ReadonlyMap<string, ToolCall | null>>(new Map());
  const requested = useRef(new Set<string>());

  useEffect(() => {
    for (const a of approvals ?? []) {
      const { sessionId, callId } = a;
      if (!requested.current.has(sessionId)) {
        requested.current.add(sessionId);
        void getSession(sessionId).then(
          (s) => setTitles((m) => new Map(m).set(sessionId, s.title || 'Untitled session')),
          () => undefined,
        );
      }
      const key = `${sessionId}/${callId ?? ''}`;
      if (!callId || requested.current.has(key)) continue;
      requested.current.add(key);
      void findCall(sessionId, callId).then(
        (call) => setCalls((m) => new Map(m).set(key, call)),
        () => undefined,
      );
    }
  }, [approvals]);

  return { titles, calls };
}
