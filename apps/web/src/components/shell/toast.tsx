'use client';

import { X } from 'lucide-react';
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';

export type ToastKind = 'success' | 'error' | 'info';
export type ToastInput = { kind: ToastKind; text: string };
type Toast = ToastInput & { id: number };

/** Any component can also toast without the context: `window.dispatchEvent(new CustomEvent(TOAST_EVENT, { detail }))`. */
export const TOAST_EVENT = 'yoke:toast';
const SHOW_MS = 5000;
/** The colour of a toast's left edge: green, red or the accent. */
const EDGE: Record<ToastKind, string> = { success: 'border-l-ok', error: 'border-l-danger', info: 'border-l-accent' };

const ToastContext = createContext<(t: ToastInput) => void>(() => undefined);

/** Shows the outcome of an action for a few seconds; read out by screen readers (errors assertively). */
export function useToast(): (t: ToastInput) => void {
  return useContext(ToastContext);
}

function isToastInput(x: unknown): x is ToastInput {
  const t = x as Partial<ToastInput> | null;
  return (
    typeof t?.text === 'string' && (t.kind === 'success' || t.kind === 'error' || t.kind === 'info') && t.text !== ''
  );
}

export function ToastProvider({ children }: { children: ReactNode }) {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const next = useRef(0);
  const timers = useRef(new Map<number, ReturnType<typeof setTimeout>>());

  const dismiss = useCallback((id: number) => {
    clearTimeout(timers.current.get(id));
    timers.current.delete(id);
    setToasts((all) => all.filter((t) => t.id !== id));
  }, []);

  const show = useCallback(
    (t: ToastInput) => {
      const id = ++next.current;
      setToasts((all) => [...all.slice(-3), { ...t, id }]);
      timers.current.set(
        id,
        setTimeout(() => dismiss(id), SHOW_MS),
      );
    },
    [dismiss],
  );

  useEffect(() => {
    const onEvent = (e: Event) => {
      const detail = (e as CustomEvent<unknown>).detail;
      if (isToastInput(detail)) show(detail);
    };
    const all = timers.current;
    window.addEventListener(TOAST_EVENT, onEvent);
    return () => {
      window.removeEventListener(TOAST_EVENT, onEvent);
      for (const t of all.values()) clearTimeout(t);
    };
  }, [show]);

  const polite = useMemo(() => toasts.filter((t) => t.kind !== 'error'), [toasts]);
  const urgent = useMemo(() => toasts.filter((t) => t.kind === 'error'), [toasts]);

  return (
    <ToastContext.Provider value={show}>
      {children}
      <div className="pointer-events-none fixed right-4 bottom-4 z-60 grid max-w-[min(420px,calc(100vw-32px))] gap-2">
        {[
          { list: urgent, live: 'assertive' as const, id: 'toasts-urgent' },
          { list: polite, live: 'polite' as const, id: 'toasts-polite' },
        ].map((region) => (
          <div key={region.id} aria-live={region.live} role="log" className="grid gap-2" data-testid={region.id}>
            {region.list.map((t) => (
              <div
                key={t.id}
                className={`pointer-events-auto flex animate-toast-in items-start gap-2 rounded-sm border border-l-4 border-border bg-surface px-3 py-2.5 text-fg shadow-toast motion-reduce:animate-none ${EDGE[t.kind]}`}
                data-testid="toast"
                data-kind={t.kind}
              >
                <span className="flex-1 text-[0.9rem]">{t.text}</span>
                <button
                  type="button"
                  className="inline-flex min-h-0 cursor-pointer items-center border-none bg-transparent p-1 text-muted"
                  onClick={() => dismiss(t.id)}
                  aria-label="Dismiss notification"
                >
                  <X aria-hidden="true" className="size-4" />
                </button>
              </div>
            ))}
          </div>
        ))}
      </div>
    </ToastContext.Provider>
  );
}
