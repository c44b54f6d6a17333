/**
 * The optional team-mode API token, kept in localStorage under `yoke.token`. Embedded mode needs none.
 * Subscribers hear changes made in this tab and in other tabs.
 */
const TOKEN_KEY = 'yoke.token';
const CHANGE_EVENT = 'yoke:token-change';

export function readToken(): string | null {
  if (typeof window === 'undefined') return null;
  try {
    const value = window.localStorage.getItem(TOKEN_KEY);
    return value && value.trim() ? value.trim() : null;
  } catch {
    return null;
  }
}

export function writeToken(token: string | null): void {
  const value = token?.trim() ?? '';
  try {
    if (value) window.localStorage.setItem(TOKEN_KEY, value);
    else window.localStorage.removeItem(TOKEN_KEY);
  } finally {
    window.dispatchEvent(new Event(CHANGE_EVENT));
  }
}

export function subscribeToken(onChange: () => void): () => void {
  const onStorage = (e: StorageEvent) => {
    if (e.key === null || e.key === TOKEN_KEY) onChange();
  };
  window.addEventListener(CHANGE_EVENT, onChange);
  window.addEventListener('storage', onStorage);
  return () => {
    window.removeEventListener(CHANGE_EVENT, onChange);
    window.removeEventListener('storage', onStorage);
  };
}
