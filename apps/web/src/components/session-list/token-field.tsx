'use client';

import { useState } from 'react';
import { useMe } from '@/hooks/use-me';
import { useToken } from '@/hooks/use-token';
import { writeToken } from '@/lib/token';

/** Team mode only: the bearer token used for REST and the socket handshake, kept in localStorage. */
export function TokenField() {
  const token = useToken();
  const [draft, setDraft] = useState('');
  const who = useMe();
  // Embedded mode needs no token: the control would mean nothing there.
  if (who?.me.mode === 'embedded') return null;

  return (
    <details>
      <summary className="cursor-pointer text-sm text-muted">
        API token {token ? <span className="chip">set</span> : <span className="muted">(not set)</span>}
      </summary>
      <form
        className="mt-2 flex flex-wrap gap-2"
        onSubmit={(e) => {
          e.preventDefault();
          writeToken(draft);
          setDraft('');
        }}
      >
        <label className="field grow">
          <span className="sr-only">API token</span>
          <input
            type="password"
            autoComplete="off"
            placeholder={token ? 'Replace the stored token' : 'Paste a token (team mode)'}
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            data-testid="token-input"
          />
        </label>
        <button type="submit" disabled={!draft.trim()}>
          Save
        </button>
        <button type="button" className="secondary" disabled={!token} onClick={() => writeToken(null)}>
          Clear
        </button>
      </form>
      <p className="muted small">Not needed for a local `yoke start`. Stored in this browser only.</p>
    </details>
  );
}
