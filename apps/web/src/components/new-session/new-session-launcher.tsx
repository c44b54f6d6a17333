'use client';

import { lazy, Suspense, useEffect, useState } from 'react';
import { NEW_SESSION_EVENT } from './new-session-form';

// The dialog (and Radix with it) arrives with the first request: pages never ship it up front.
const NewSessionDialog = lazy(() => import('./new-session-dialog').then((m) => ({ default: m.NewSessionDialog })));

/** Mounted once, in the header: opens the New session dialog on each `yoke:new-session` window event. */
export function NewSessionLauncher() {
  const [request, setRequest] = useState(0);

  useEffect(() => {
    const open = () => setRequest((n) => n + 1);
    window.addEventListener(NEW_SESSION_EVENT, open);
    return () => window.removeEventListener(NEW_SESSION_EVENT, open);
  }, []);

  if (request === 0) return null;
  return (
    <Suspense fallback={null}>
      <NewSessionDialog request={request} />
    </Suspense>
  );
}
