'use client';

import { APPROVE_SESSION, type HumanDecision } from '@yoke/protocol';
import { useEffect, useRef, useSyncExternalStore } from 'react';
import { isTypingTarget } from '@/components/shell/shortcuts';

/** The key that decides each way, as the buttons show it and the help sheet lists it. */
export const DECISION_KEYS: Record<HumanDecision, string> = { approve: 'a', approve_session: 's', deny: 'd' };

/**
 * The app shell's "g then a" (go to Approvals) and "g then s" (go to Sessions) start with g: within this long after a
 * g, a/s belong to that sequence, not to a decision (the shell's own window, SEQUENCE_MS in app-shell.tsx).
 */
const AFTER_G_MS = 1500;

/** The decision a key press asks for, or null: `s` only where the request offers approving for the session. */
export function decisionForKey(key: string, options: readonly string[]): HumanDecision | null {
  if (key === DECISION_KEYS.approve) return 'approve';
  if (key === DECISION_KEYS.deny) return 'deny';
  if (key === DECISION_KEYS.approve_session && options.includes(APPROVE_SESSION)) return APPROVE_SESSION;
  return null;
}

/** Whether a single-key shortcut should act: no modifier, not typing in a field, no dialog open, not handled yet. */
export function isFreeKeyPress(e: KeyboardEvent): boolean {
  if (e.defaultPrevented || e.repeat || e.metaKey || e.ctrlKey || e.altKey) return false;
  if (isTypingTarget(e.target)) return false;
  return !document.querySelector('dialog[open]');
}

/**
 * Single-key shortcuts on the window for as long as the component is mounted and `isEnabled`: `onKey` hears each free
 * key press (see `isFreeKeyPress`) and returns whether it used it (then the browser's default is prevented).
 */
export function useSingleKeys(onKey: (e: KeyboardEvent) => boolean, isEnabled = true): void {
  const latest = useRef(onKey);
  latest.current = onKey;
  useEffect(() => {
    if (!isEnabled) return;
    let lastG = 0;
    const listener = (e: KeyboardEvent) => {
      if (!isFreeKeyPress(e)) return;
      if (e.key === 'g') {
        lastG = Date.now();
        return;
      }
      if (Date.now() - lastG < AFTER_G_MS) {
        lastG = 0;
        return;
      }
      if (latest.current(e)) e.preventDefault();
    };
    window.addEventListener('keydown', listener);
    return () => window.removeEventListener('keydown', listener);
  }, [isEnabled]);
}

/** A pending approval on the session page that the viewer may decide, as its card registers it. */
type PendingCard = { approvalId: string; askedAt: string };

// The session page's cards each register here while they wait on the viewer; only the oldest answers to the keys.
const pendingCards = new Map<string, PendingCard>();
const listeners = new Set<() => void>();
let oldestId: string | null = null;

function changed(): void {
  let oldest: PendingCard | null = null;
  for (const c of pendingCards.values()) {
    if (!oldest || c.askedAt < oldest.askedAt || (c.askedAt === oldest.askedAt && c.approvalId < oldest.approvalId)) {
      oldest = c;
    }
  }
  oldestId = oldest?.approvalId ?? null;
  for (const l of listeners) l();
}

function subscribe(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

/**
 * On a session page: while this card's approval is pending and the viewer may decide it (`card` not null), a, s and d
 * decide it if it is the oldest such one on the page. Returns whether the keys are this card's (to show them).
 */
export function useOldestApprovalKeys(
  card: (PendingCard & { options: readonly string[] }) | null,
  decide: (decision: HumanDecision) => void,
): boolean {
  const id = card?.approvalId ?? null;
  const askedAt = card?.askedAt ?? '';
  useEffect(() => {
    if (id === null) return;
    pendingCards.set(id, { approvalId: id, askedAt });
    changed();
    return () => {
      pendingCards.delete(id);
      changed();
    };
  }, [id, askedAt]);
  const isMine = useSyncExternalStore(
    subscribe,
    () => id !== null && oldestId === id,
    () => false,
  );
  useSingleKeys((e) => {
    const decision = card ? decisionForKey(e.key, card.options) : null;
    if (!decision) return false;
    decide(decision);
    return true;
  }, isMine);
  return isMine;
}
