'use client';

import { useEffect, useState } from 'react';
import type { Tokenize } from '@/lib/highlight-tokens';

let loaded: Tokenize | null = null;
let loading: Promise<Tokenize> | null = null;

/** Loads the highlighter once for the whole page; every later caller gets it at once. */
export function loadHighlighter(): Promise<Tokenize> {
  loading ??= import('@/lib/highlight').then((m) => (loaded = m.highlightTokens));
  return loading;
}

/**
 * The highlighter once it is loaded (null until then, and while `wanted` is false): code is drawn plain first and
 * highlighted when the grammars arrive, so they are not part of a page's first load.
 */
export function useHighlighter(wanted: boolean): Tokenize | null {
  const [tokenize, setTokenize] = useState<Tokenize | null>(() => loaded);
  useEffect(() => {
    if (!wanted || tokenize) return;
    let live = true;
    void loadHighlighter().then((t) => {
      if (live) setTokenize(() => t);
    });
    return () => {
      live = false;
    };
  }, [wanted, tokenize]);
  return tokenize;
}
