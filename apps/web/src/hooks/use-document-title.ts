'use client';

import { useEffect } from 'react';

/**
 * The tab title `<title> · Yoke` for pages whose title is live (a session's name, a pending count); static pages
 * set theirs through Next's metadata. The previous title comes back when the page goes.
 */
export function useDocumentTitle(title: string): void {
  useEffect(() => {
    const previous = document.title;
    document.title = `${title} · Yoke`;
    return () => {
      document.title = previous;
    };
  }, [title]);
}
