'use client';

import { useRouter } from 'next/navigation';
import { lazy, Suspense, useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { askNotificationPermission, notificationPermission, registerServiceWorker } from './pwa';
import { isTypingTarget, PLACES, requestNewSession } from './shortcuts';
import { ToastProvider, useToast } from './toast';
import { useBackgroundNotifications } from './use-background-notifications';

// cmdk arrives with the first Ctrl-K, and the shortcut sheet (Radix) with the first `?`: pages never ship them up front.
const CommandPalette = lazy(() => import('./command-palette').then((m) => ({ default: m.CommandPalette })));
const HelpSheet = lazy(() => import('./help-sheet').then((m) => ({ default: m.HelpSheet })));

const SEQUENCE_MS = 1500;

/**
 * The app around every page: toasts, the command palette (Cmd/Ctrl-K), keyboard shortcuts and their `?` sheet, the
 * service worker of the installable app, and notifications while the tab is in the background.
 */
export function AppShell({ children }: { children: ReactNode }) {
  return (
    <ToastProvider>
      {children}
      <ShellControls />
    </ToastProvider>
  );
}

function ShellControls() {
  const router = useRouter();
  const toast = useToast();
  const [isPaletteOpen, setIsPaletteOpen] = useState(false);
  const [hasPalette, setHasPalette] = useState(false);
  const [isHelpOpen, setIsHelpOpen] = useState(false);
  const [hasHelp, setHasHelp] = useState(false);
  const [permission, setPermission] = useState<string>('unsupported');
  const pendingG = useRef(0);
  useBackgroundNotifications();

  useEffect(() => {
    registerServiceWorker();
    setPermission(notificationPermission());
  }, []);

  const openPalette = useCallback(() => {
    setHasPalette(true);
    setIsPaletteOpen(true);
  }, []);
  const closePalette = useCallback(() => setIsPaletteOpen(false), []);
  const openHelp = useCallback(() => {
    setHasHelp(true);
    setIsHelpOpen(true);
  }, []);
  const closeHelp = useCallback(() => setIsHelpOpen(false), []);

  const enableNotifications = useCallback(() => {
    askNotificationPermission()
      .then((p) => {
        setPermission(p);
        if (p === 'granted') {
          toast({ kind: 'success', text: 'Notifications are on for approvals and finished turns.' });
        } else if (p === 'denied') {
          toast({ kind: 'error', text: "Notifications are blocked: allow them in this site's browser settings." });
        } else if (p === 'unsupported') {
          toast({ kind: 'error', text: 'This browser cannot show notifications.' });
        }
      })
      .catch(() => toast({ kind: 'error', text: 'Notifications could not be turned on.' }));
  }, [toast]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.metaKey || e.ctrlKey) && !e.altKey && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        if (isPaletteOpen) closePalette();
        else openPalette();
        return;
      }
      if (e.defaultPrevented || e.metaKey || e.ctrlKey || e.altKey || isTypingTarget(e.target)) return;
      // No page shortcut while a dialog is open (every dialog, Radix's included, is an open <dialog> element).
      if (document.querySelector('dialog[open]')) return;
      if (pendingG.current > Date.now() - SEQUENCE_MS) {
        pendingG.current = 0;
        const place = PLACES.find((p) => p.key === e.key);
        if (place) {
          e.preventDefault();
          router.push(place.href);
        }
        return;
      }
      if (e.key === '?') {
        e.preventDefault();
        openHelp();
      } else if (e.key === 'g') {
        pendingG.current = Date.now();
      } else if (e.key === 'n') {
        e.preventDefault();
        requestNewSession();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [router, isPaletteOpen, openPalette, closePalette, openHelp]);

  const canEnable = permission === 'default';
  return (
    <>
      {hasPalette && (
        <Suspense fallback={null}>
          <CommandPalette
            open={isPaletteOpen}
            onClose={closePalette}
            onHelp={openHelp}
            onEnableNotifications={enableNotifications}
            canEnableNotifications={canEnable}
          />
        </Suspense>
      )}
      {hasHelp && (
        <Suspense fallback={null}>
          <HelpSheet
            open={isHelpOpen}
            onClose={closeHelp}
            onEnableNotifications={enableNotifications}
            canEnableNotifications={canEnable}
          />
        </Suspense>
      )}
    </>
  );
}
