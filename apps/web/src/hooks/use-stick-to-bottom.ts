'use client';

import { useEffect, useLayoutEffect, useRef } from 'react';

const SLACK_PX = 120;

/**
 * Keeps the page scrolled to the bottom while new content arrives, unless the reader has scrolled up.
 * `growth` is any value that changes whenever the content grows; a change of `follow` (the reader sent a message)
 * scrolls to the bottom and pins the view there again.
 */
export function useStickToBottom(growth: string | number, follow: number = 0): void {
  const isPinned = useRef(true);

  useEffect(() => {
    const onScroll = () => {
      const el = document.documentElement;
      isPinned.current = el.scrollHeight - (window.scrollY + window.innerHeight) < SLACK_PX;
    };
    window.addEventListener('scroll', onScroll, { passive: true });
    return () => window.removeEventListener('scroll', onScroll);
  }, []);

  useLayoutEffect(() => {
    if (follow === 0) return;
    isPinned.current = true;
    window.scrollTo({ top: document.documentElement.scrollHeight });
  }, [follow]);

  useLayoutEffect(() => {
    if (isPinned.current) window.scrollTo({ top: document.documentElement.scrollHeight });
  }, [growth]);
}
