'use client';

import type { Session } from '@yoke/protocol';
import { Command } from 'cmdk';
import { useRouter } from 'next/navigation';
import { Dialog } from 'radix-ui';
import { useEffect, useState } from 'react';
import { OVERLAY_CLASS, useReturnFocus } from '@/components/ui/dialog';
import { describeError, listSessions } from '@/lib/api';
import { paletteFilter } from './palette-filter';
import { PLACES, requestNewSession } from './shortcuts';

const SESSIONS_SHOWN = 200;
const PANEL =
  'fixed top-[12vh] left-1/2 z-50 m-0 w-[min(620px,calc(100vw-24px))] p-0 -translate-x-1/2 overflow-hidden rounded-lg border border-border bg-surface text-fg shadow-dialog';
/** cmdk's parts carry attributes ([cmdk-group-heading], …) rather than classes: styled from the list. */
const LIST =
  'max-h-[min(420px,60vh)] overflow-y-auto p-1.5 [&_[cmdk-empty]]:px-2.5 [&_[cmdk-empty]]:py-3 [&_[cmdk-empty]]:text-[0.9rem] [&_[cmdk-empty]]:text-muted [&_[cmdk-group-heading]]:px-2.5 [&_[cmdk-group-heading]]:pt-2 [&_[cmdk-group-heading]]:pb-1 [&_[cmdk-group-heading]]:text-xs [&_[cmdk-group-heading]]:font-semibold [&_[cmdk-group-heading]]:text-muted [&_[cmdk-loading]]:px-2.5 [&_[cmdk-loading]]:py-3 [&_[cmdk-loading]]:text-[0.9rem] [&_[cmdk-loading]]:text-muted';
/** A row; the one the arrow keys are on has a tinted background and an accent bar. */
const ITEM =
  'flex cursor-pointer items-baseline justify-between gap-3 rounded-sm px-2.5 py-2 data-[selected=true]:bg-surface-2 data-[selected=true]:shadow-[inset_3px_0_0_var(--color-accent)]';

/**
 * Cmd/Ctrl-K: jump to a session (the most recent ones, filtered as you type), start a new one, or go to a page.
 * A Radix modal dialog (Esc closes, the page behind is inert, focus returns where it was); loaded only when first
 * opened.
 */
export function CommandPalette({
  open,
  onClose,
  onHelp,
  onEnableNotifications,
  canEnableNotifications,
}: {
  open: boolean;
  onClose: () => void;
  onHelp: () => void;
  onEnableNotifications: () => void;
  canEnableNotifications: boolean;
}) {
  const returnFocus = useReturnFocus();
  const router = useRouter();
  const [search, setSearch] = useState('');
  const [sessions, setSessions] = useState<Session[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (open) setSearch('');
  }, [open]);

  useEffect(() => {
    if (!open) return;
    const ctrl = new AbortController();
    listSessions({ limit: SESSIONS_SHOWN }, ctrl.signal)
      .then((page) => {
        setSessions(page.sessions);
        setError(null);
      })
      .catch((err: unknown) => {
        if (!ctrl.signal.aborted) setError(describeError(err));
      });
    return () => ctrl.abort();
  }, [open]);

  const run = (action: () => void) => {
    onClose();
    action();
  };

  return (
    <Dialog.Root open={open} onOpenChange={(isOpen) => !isOpen && onClose()}>
      <Dialog.Portal>
        <Dialog.Overlay className={OVERLAY_CLASS} />
        <Dialog.Content aria-describedby={undefined} data-testid="command-palette" {...returnFocus} asChild>
          {/* An open <dialog> element, as in DialogPanel: `dialog[open]` finds it. */}
          <dialog open aria-modal="true" className={PANEL}>
            <Dialog.Title className="sr-only">Command palette</Dialog.Title>
            <Command label="Command palette" loop filter={paletteFilter}>
              <Command.Input
                className="w-full min-h-0 rounded-none border-0 border-b border-border bg-transparent px-4 py-3.5 text-base text-fg focus-visible:shadow-[inset_0_-2px_0_var(--color-focus)] focus-visible:outline-none"
                value={search}
                onValueChange={setSearch}
                placeholder="Jump to a session, or type a command…"
                aria-label="Search sessions and commands"
                data-testid="palette-input"
              />
              <Command.List className={LIST}>
                <Command.Empty>Nothing matches.</Command.Empty>
                <Command.Group heading="Actions">
                  <Command.Item
                    className={ITEM}
                    value="New session"
                    onSelect={() => run(requestNewSession)}
                    data-testid="palette-new-session"
                  >
                    New session
                  </Command.Item>
                  {canEnableNotifications && (
                    <Command.Item
                      className={ITEM}
                      value="Turn on notifications"
                      onSelect={() => run(onEnableNotifications)}
                    >
                      Turn on notifications
                    </Command.Item>
                  )}
                  <Command.Item className={ITEM} value="Keyboard shortcuts help" onSelect={() => run(onHelp)}>
                    Keyboard shortcuts
                  </Command.Item>
                </Command.Group>
                <Command.Group heading="Go to">
                  {PLACES.map((p) => (
                    <Command.Item
                      className={ITEM}
                      key={p.href}
                      value={`Go to ${p.label}`}
                      onSelect={() => run(() => router.push(p.href))}
                      data-testid="palette-place"
                    >
                      {p.label}
                    </Command.Item>
                  ))}
                </Command.Group>
                <Command.Group heading="Sessions">
                  {error && <Command.Loading>Sessions could not be loaded: {error}</Command.Loading>}
                  {!sessions && !error && <Command.Loading>Loading sessions…</Command.Loading>}
                  {sessions?.map((s) => (
                    <Command.Item
                      className={ITEM}
                      key={s.id}
                      value={`${s.title || 'Untitled'} ${s.id}`}
                      keywords={[s.agent.name, s.harness, s.status]}
                      onSelect={() => run(() => router.push(`/session/?id=${s.id}`))}
                      data-testid="palette-session"
                      data-session-id={s.id}
                    >
                      <span className="truncate">{s.title || 'Untitled session'}</span>
                      <span className="flex-none text-xs text-muted">
                        {s.agent.name} · {s.status.replace('_', ' ')}
                      </span>
                    </Command.Item>
                  ))}
                </Command.Group>
              </Command.List>
            </Command>
          </dialog>
        </Dialog.Content>
      </Dialog.Portal>
    </Dialog.Root>
  );
}
