'use client';

import { Dialog } from 'radix-ui';
import { DialogPanel } from '@/components/ui/dialog';
import { SHORTCUTS } from './shortcuts';

/** `?`: every keyboard shortcut. A Radix modal dialog: Esc or Close closes it and focus returns where it was. */
export function HelpSheet({
  open,
  onClose,
  onEnableNotifications,
  canEnableNotifications,
}: {
  open: boolean;
  onClose: () => void;
  onEnableNotifications: () => void;
  canEnableNotifications: boolean;
}) {
  return (
    <Dialog.Root open={open} onOpenChange={(isOpen) => !isOpen && onClose()}>
      <DialogPanel
        title="Keyboard shortcuts"
        // Close comes first in the panel, so it has the focus when the sheet opens.
        headerAction={<Dialog.Close className="secondary">Close</Dialog.Close>}
        className="w-[min(520px,calc(100vw-24px))]"
        data-testid="help-sheet"
      >
        <table className="w-full border-collapse text-[0.9rem]">
          <caption className="sr-only">Keyboard shortcuts</caption>
          <thead>
            <tr>
              <th scope="col" className={HEAD_CELL}>
                Keys
              </th>
              <th scope="col" className={HEAD_CELL}>
                Does
              </th>
            </tr>
          </thead>
          <tbody>
            {SHORTCUTS.map((s) => (
              <tr key={s.description} data-testid="shortcut">
                <td className={`${CELL} w-[1%] whitespace-nowrap`}>
                  {s.keys.map((k, i) => (
                    <span key={i}>
                      {i > 0 && ' '}
                      <kbd>{k}</kbd>
                    </span>
                  ))}
                </td>
                <td className={CELL}>{s.description}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {canEnableNotifications && (
          <p className="mt-3 mb-0 flex flex-wrap items-center justify-between gap-2">
            <span className="muted small">Get a system notification when an approval waits or your turn ends.</span>
            <button
              type="button"
              className="secondary"
              onClick={onEnableNotifications}
              data-testid="enable-notifications"
            >
              Turn on notifications
            </button>
          </p>
        )}
      </DialogPanel>
    </Dialog.Root>
  );
}

const HEAD_CELL = 'px-1.5 py-1 text-left text-xs font-semibold text-muted';
const CELL = 'border-t border-border p-1.5';
