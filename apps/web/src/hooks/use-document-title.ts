'use client';

import { useEffect } from 'react';
import { useSetLiveTitle } from '@/components/shell/pending-approvals';

/**
 * The tab title `<title> · Yoke` for pages whose title is live (a session's name, a pending count); static pages
 * set theirs through Next's metadata. The shell (PendingApprovalsProvider) writes it, led by the pending-approval
 * count as every title is, `(2) Fix the tests · Yoke`, unless `hasCount` says this title shows the count itself.
 * Next may write the page's static title again after this one was set (its metadata lands late on a full load):
 * the live title is put back whenever the document's title changes under it. The previous title comes back when
 * the page goes.
 */
export function useDocumentTitle(title: string, { hasCount = false }: { hasCount?: boolean } = {}): void {
  const setLiveTitle = useSetLiveTitle();
  useEffect(() => {
    setLiveTitle({ text: `${title} · Yoke`, hasCount });
    return () => setLiveTitle(null);
  }, [title, hasCount, setLiveTitle]);
}
