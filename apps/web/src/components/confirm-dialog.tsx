'use client';

import { AlertDialog } from 'radix-ui';
import { useState } from 'react';
import { OVERLAY_CLASS, PANEL_CLASS, TITLE_CLASS, useReturnFocus } from '@/components/ui/dialog';

/** What a destructive action will do, and the action itself (run when the person confirms). */
export type ConfirmRequest = {
  title: string;
  /** What happens, in plain words. */
  body: string;
  /** The destructive button's label: the action, such as "Revoke runner". */
  action: string;
  onConfirm: () => Promise<unknown>;
};

/**
 * Asks before a destructive action. A modal alert dialog (Radix): focus moves to Cancel (the default), Esc or Cancel
 * closes it and changes nothing, focus returns to what opened it. Render one per page and set `request` to open it.
 */
export function ConfirmDialog({ request, onClose }: { request: ConfirmRequest | null; onClose: () => void }) {
  const [isBusy, setIsBusy] = useState(false);
  const returnFocus = useReturnFocus();

  const close = () => {
    setIsBusy(false);
    onClose();
  };

  // A plain button, not AlertDialog.Action: the dialog stays open (the action disabled) until the action has run.
  const confirm = async () => {
    if (!request) return;
    setIsBusy(true);
    try {
      await request.onConfirm();
    } finally {
      close();
    }
  };

  return (
    <AlertDialog.Root open={request !== null} onOpenChange={(isOpen) => !isOpen && close()}>
      <AlertDialog.Portal>
        <AlertDialog.Overlay className={OVERLAY_CLASS} />
        <AlertDialog.Content {...returnFocus} data-testid="confirm-dialog" asChild>
          {/* An open <dialog> element, as in DialogPanel: `dialog[open]` finds it. */}
          <dialog open aria-modal="true" className={`${PANEL_CLASS} max-w-[480px]`}>
            <AlertDialog.Title className={TITLE_CLASS}>{request?.title}</AlertDialog.Title>
            <AlertDialog.Description className="my-3">{request?.body}</AlertDialog.Description>
            <div className="flex flex-wrap justify-end gap-2">
              <AlertDialog.Cancel className="secondary" data-testid="confirm-cancel">
                Cancel
              </AlertDialog.Cancel>
              <button
                type="button"
                className="danger"
                disabled={isBusy}
                onClick={() => void confirm()}
                data-testid="confirm-action"
              >
                {request?.action}
              </button>
            </div>
          </dialog>
        </AlertDialog.Content>
      </AlertDialog.Portal>
    </AlertDialog.Root>
  );
}
