'use client';

import { useEffect, useLayoutEffect, useRef } from 'react';

const SLACK_PX = 120;
/** An address naming one row (`#item-42`): the reader asked to read there, not at the bottom. */
const ROW_LINK = /^#item-\d+$/;

/**
 * Keeps the page scrolled to the bottom while new content arrives, unless the reader has scrolled up.
 * `growth` is any value that changes whenever the content grows; a change of `follow` (the reader sent a message)
 * scrolls to the bottom and pins the view there again.
 */
export function useStickToBottom(growth: string | number, follow: number = 0): void {
  const isPinned = useRef(true);
  const lastY = useRef(0);

  // Following a link to a row lets go of the bottom at once, on opening such an address too. Waiting for the scroll
  // event its jump fires is too late: a row measured or an item arriving in between would pull the view back down.
  useLayoutEffect(() => {
    const onHash = () => {
      if (ROW_LINK.test(window.location.hash)) isPinned.current = false;
    };
    onHash();
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  useEffect(() => {
    const onScroll = () => {
      const el = document.documentElement;
      const y = window.scrollY;
      // Only the reader scrolling up lets go of the bottom. The page also scrolls by itself (rows measured taller as
      // they are drawn, the browser keeping content in place): read as a reader's scroll, such an event could leave a
      // page that was following its history stuck above the last item.
      if (el.scrollHeight - (y + window.innerHeight) < SLACK_PX) isPinned.current = true;
      else if (y < lastY.current) isPinned.current = false;
      lastY.current = y;
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
