'use client';

import { Plus } from 'lucide-react';
import { openNewSession } from './new-session-form';

/** Opens the New session dialog (mounted once, in the header, by NewSessionLauncher). */
export function NewSessionButton({ testId = 'new-session-button' }: { testId?: string }) {
  return (
    <button
      type="button"
      className="inline-flex min-h-[34px] items-center gap-1.5 px-3 py-1.5 whitespace-nowrap"
      onClick={openNewSession}
      aria-label="New session"
      data-testid={testId}
    >
      <Plus aria-hidden="true" className="size-4" />
      {/* In the header, a phone gets the + alone (the button's accessible name stays "New session"). */}
      <span className="in-[.app-header]:max-sm:hidden">New session</span>
    </button>
  );
}
