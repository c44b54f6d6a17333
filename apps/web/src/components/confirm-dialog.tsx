'use client';

import { useEffect, useRef, useState } from 'react';

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
 * Asks before a destructive action. A modal alert dialog: focus moves to Cancel (the default), Esc or Cancel closes it
 * and changes nothing, focus returns to what opened it. Render one per page and set `request` to open it.
 */
export function ConfirmDialog({ request, onClose }: { request: ConfirmRequest | null; onClose: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  const openerRef = useRef<HTMLElement | null>(null);
  const [isBusy, setIsBusy] = useState(false);

  useEffect(() => {
    const d = ref.current;
    if (!d || !request) return;
    openerRef.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (!d.open) d.showModal();
    cancelRef.current?.focus();
  }, [request]);

  useEffect(() => {
    const d = ref.current;
    const onDialogClose = () => {
      setIsBusy(false);
      onClose();
      openerRef.current?.focus();
    };
    d?.addEventListener('close', onDialogClose);
    return () => d?.removeEventListener('close', onDialogClose);
  }, [onClose]);

  const confirm = async () => {
    if (!request) return;
    setIsBusy(true);
    try {
      await request.onConfirm();
    } finally {
      ref.current?.close();
    }
  };

  return (
    <dialog
      ref={ref}
      className="dialog confirm-dialog"
      role="alertdialog"
      aria-modal="true"
      aria-labelledby="confirm-title"
      aria-describedby="confirm-body"
      data-testid="confirm-dialog"
    >
      <h2 id="confirm-title">{request?.title}</h2>
      <p id="confirm-body">{request?.body}</p>
      <div className="form-row confirm-actions">
        <button
          ref={cancelRef}
          type="button"
          className="secondary"
          onClick={() => ref.current?.close()}
          data-testid="confirm-cancel"
        >
          Cancel
        </button>
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
  );
}
