'use client';

import type { Approval, Comment, SessionAccess } from '@yoke/protocol';
import { createContext, useContext } from 'react';

/** What items in the timeline need to act collaboratively (approve, fork, comment on an item). */
export type CollabContextValue = {
  sessionId: string;
  access: SessionAccess | null;
  approvals: Approval[];
  comments: Comment[];
  approvalSettled(a: Approval): void;
  fork(seq: number): void;
  commentOnItem(seq: number): void;
};

export const CollabContext = createContext<CollabContextValue | null>(null);

export function useCollabContext(): CollabContextValue | null {
  return useContext(CollabContext);
}
