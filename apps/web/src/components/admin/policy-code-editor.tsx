'use client';

import type { PolicyIssue } from '@yoke/protocol';
import { useEffect, useRef, useState } from 'react';
import type { PolicyCodeMirror } from './policy-codemirror';

/**
 * The policy YAML in a code editor (line numbers, highlighting, inline errors). CodeMirror arrives with a dynamic
 * import when this mounts, so other pages never ship it; until then a note says it is loading.
 */
export function PolicyCodeEditor({
  value,
  issues,
  onChange,
  describedBy,
}: {
  value: string;
  issues: PolicyIssue[];
  onChange: (text: string) => void;
  describedBy: string;
}) {
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<PolicyCodeMirror | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const [isReady, setIsReady] = useState(false);
  // The latest props, read by the editor's callbacks and by the first mount (which happens after the import).
  const latest = useRef({ value, issues, onChange });
  latest.current = { value, issues, onChange };

  useEffect(() => {
    let isGone = false;
    import('./policy-codemirror')
      .then(({ mountPolicyCodeMirror }) => {
        if (isGone || !host.current) return;
        editor.current = mountPolicyCodeMirror(host.current, {
          doc: latest.current.value,
          label: 'Org policies (YAML)',
          describedBy,
          onChange: (text) => latest.current.onChange(text),
        });
        editor.current.setIssues(latest.current.issues);
        setIsReady(true);
      })
      .catch(() => setFailure('The editor could not be loaded. Reload the page to try again.'));
    return () => {
      isGone = true;
      editor.current?.destroy();
      editor.current = null;
    };
  }, [describedBy]);

  useEffect(() => editor.current?.setDoc(value), [value, isReady]);
  useEffect(() => editor.current?.setIssues(issues), [issues, isReady]);

  return (
    <div
      className="min-h-[16em] overflow-hidden rounded-sm border border-border bg-surface text-fg focus-within:outline-2 focus-within:outline-offset-1 focus-within:outline-focus"
      data-testid="policy-code"
      data-ready={isReady ? 'true' : 'false'}
    >
      {!isReady && !failure && <p className="muted small m-0 p-3">Loading the editor…</p>}
      {failure && (
        <p className="banner banner-error" role="alert">
          {failure}
        </p>
      )}
      <div ref={host} />
    </div>
  );
}
