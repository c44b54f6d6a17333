'use client';

import { X } from 'lucide-react';
import { Dialog } from 'radix-ui';
import { useRef, type ComponentProps, type ReactNode } from 'react';

/** The dimmed page behind a modal dialog. */
export const OVERLAY_CLASS = 'fixed inset-0 z-50 bg-backdrop';

/**
 * A modal panel centred on the page; it scrolls inside itself when taller than the window (a phone, a long form). It
 * is an open <dialog> element (see DialogPanel): `m-0` undoes the browser's centring margins for it.
 */
export const PANEL_CLASS =
  'fixed top-1/2 left-1/2 z-50 m-0 max-h-[calc(100dvh-48px)] w-[min(640px,calc(100vw-24px))] -translate-1/2 overflow-y-auto rounded-lg border border-border bg-surface p-3 text-fg shadow-dialog';

/** A dialog's heading: it names the dialog for assistive technology (Radix links it with aria-labelledby). */
export const TITLE_CLASS = 'm-0 text-lg font-bold';

/**
 * Focus goes back to what opened the dialog when it closes. Radix does this only for its own Trigger; these dialogs are
 * also opened by shortcuts, events and other components. Pass both handlers to a dialog's Content.
 */
export function useReturnFocus() {
  const openerRef = useRef<HTMLElement | null>(null);
  return {
    // Runs before focus moves into the dialog, so the element focused now is the opener.
    onOpenAutoFocus: () => {
      openerRef.current = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    },
    onCloseAutoFocus: (e: Event) => {
      e.preventDefault();
      openerRef.current?.focus();
    },
  };
}

/**
 * A modal dialog's panel: the page behind goes inert, Tab stays inside, Esc closes, and focus returns to what opened it
 * when it closes (all from Radix). `title` labels the dialog; `headerAction` sits at the heading's right (a Close or
 * Cancel button). Render inside a `Dialog.Root`.
 *
 * The panel is an open <dialog> element, so code that asks "is a dialog open?" with `dialog[open]` (single-key
 * shortcuts stay off while one is) sees Radix dialogs too.
 */
export function DialogPanel({
  title,
  headerAction,
  className,
  children,
  ...props
}: Omit<ComponentProps<typeof Dialog.Content>, 'title'> & { title: ReactNode; headerAction?: ReactNode }) {
  const returnFocus = useReturnFocus();
  return (
    <Dialog.Portal>
      <Dialog.Overlay className={OVERLAY_CLASS} />
      {/* Dialogs without a Description would otherwise point aria-describedby at nothing. */}
      <Dialog.Content aria-describedby={undefined} {...returnFocus} {...props} asChild>
        <dialog open aria-modal="true" className={`${PANEL_CLASS} ${className ?? ''}`}>
          <div className="mb-3 flex items-center justify-between gap-3">
            <Dialog.Title className={TITLE_CLASS}>{title}</Dialog.Title>
            {headerAction}
          </div>
          {children}
        </dialog>
      </Dialog.Content>
    </Dialog.Portal>
  );
}

/** The ✕ at a dialog's top right: a button named "Close". */
export function DialogCloseButton() {
  return (
    <Dialog.Close asChild>
      <button type="button" className="secondary inline-flex items-center justify-center px-2.5" aria-label="Close">
        <X aria-hidden="true" className="size-4" />
      </button>
    </Dialog.Close>
  );
}
