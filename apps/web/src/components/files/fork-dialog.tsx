'use client';

import type { Session } from '@yoke/protocol';
import { lazy, Suspense, useImperativeHandle, useState, type RefObject } from 'react';

// The dialog (and Radix with it) arrives with the first fork: the session page never ships it up front.
const ForkPanel = lazy(() => import('./fork-panel').then((m) => ({ default: m.ForkPanel })));

/** How the session view opens and closes the dialog: the same two calls as a native <dialog>. */
export type DialogHandle = { showModal(): void; close(): void };

/** Fork from an item (ForkPanel): the session view opens it through `dialogRef` after setting `seq`. */
export function ForkDialog({
  dialogRef,
  sessionId,
  session,
  seq,
}: {
  dialogRef: RefObject<DialogHandle | null>;
  sessionId: string;
  session: Session | null;
  /** The item forked from; null before a fork was asked for. */
  seq: number | null;
}) {
  const [isOpen, setIsOpen] = useState(false);
  const [hasPanel, setHasPanel] = useState(false);
  useImperativeHandle(
    dialogRef,
    () => ({
      showModal: () => {
        setHasPanel(true);
        setIsOpen(true);
      },
      close: () => setIsOpen(false),
    }),
    [],
  );

  if (!hasPanel) return null;
  return (
    <Suspense fallback={null}>
      <ForkPanel isOpen={isOpen} onOpenChange={setIsOpen} sessionId={sessionId} session={session} seq={seq} />
    </Suspense>
  );
}
