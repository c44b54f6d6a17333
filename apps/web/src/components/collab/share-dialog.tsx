'use client';

import { lazy, Suspense, useState } from 'react';

// The dialog (and Radix with it) arrives with the first click: the session page never ships it up front.
const SharePanel = lazy(() => import('./share-panel').then((m) => ({ default: m.SharePanel })));

/** The owner's Share button and its dialog (SharePanel): invite members, make links, list and revoke them. */
export function ShareDialog({ sessionId, ownerId }: { sessionId: string; ownerId: string }) {
  const [isOpen, setIsOpen] = useState(false);
  const [hasPanel, setHasPanel] = useState(false);

  return (
    <>
      <button
        type="button"
        className="secondary"
        aria-haspopup="dialog"
        aria-expanded={isOpen}
        onClick={() => {
          setHasPanel(true);
          setIsOpen(true);
        }}
        data-testid="share-button"
      >
        Share
      </button>
      {hasPanel && (
        <Suspense fallback={null}>
          <SharePanel sessionId={sessionId} ownerId={ownerId} isOpen={isOpen} onOpenChange={setIsOpen} />
        </Suspense>
      )}
    </>
  );
}
