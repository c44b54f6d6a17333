'use client';

import { useSyncExternalStore } from 'react';
import { readToken, subscribeToken } from '@/lib/token';

/** The stored API token (null in embedded mode or before hydration). */
export function useToken(): string | null {
  return useSyncExternalStore(subscribeToken, readToken, () => null);
}
