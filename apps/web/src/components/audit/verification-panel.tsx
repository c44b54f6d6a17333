'use client';

import type { AuditCheckpointView, AuditKeyView } from '@yoke/protocol';
import { useEffect, useState } from 'react';
import { fetchAuditKeys, fetchCheckpoints, type AuditStatus } from '@/components/audit/audit-api';
import { AuditTime } from '@/components/audit/audit-event-row';
import {
  CARD_SECTION,
  DISCLOSURE,
  LONG_VALUE,
  OUTCOME_COLOURS,
  SECTION_HEAD,
  SECTION_TITLE,
} from '@/components/audit/audit-styles';
import { describeError } from '@/lib/api';

/** The keys and checkpoints: small print, one under the other. */
const KEY_LIST = 'mt-1.5 mb-0 grid list-none gap-2 p-0 text-sm';

type Props = {
  status: AuditStatus;
  /** The log's size as this page knows it: the status, or a later live event. */
  size: number;
  onRefresh: () => void;
  isRefreshing: boolean;
};

/**
 * What the server says of the live log's integrity: its latest signed checkpoint and how far it covers. The
 * browser checks no signature and no proof; `yoke audit verify` does, independently of this server.
 */
export function VerificationPanel({ status, size, onRefresh, isRefreshing }: Props) {
  const cp = status.checkpoint;
  const [keys, setKeys] = useState<AuditKeyView[] | null>(null);
  const [checkpoints, setCheckpoints] = useState<AuditCheckpointView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const origin = typeof window === 'undefined' ? 'URL' : window.location.origin;

  useEffect(() => {
    fetchAuditKeys().then(setKeys, (err: unknown) => setError(describeError(err)));
  }, [cp?.keyId]);
  useEffect(() => {
    fetchCheckpoints(5).then(setCheckpoints, (err: unknown) => setError(describeError(err)));
  }, [cp?.size, cp?.at]);

  const verifiedTo = cp?.size ?? 0;
  const uncovered = Math.max(0, size - verifiedTo);
  return (
    <section
      className={`${CARD_SECTION} [&_p]:my-1 [&_p]:wrap-anywhere`}
      aria-labelledby="audit-verify-title"
      data-testid="audit-verification"
    >
      <div className={SECTION_HEAD}>
        <h2 id="audit-verify-title" className={SECTION_TITLE}>
          Integrity of the live log
        </h2>
        <button type="button" className="secondary" onClick={onRefresh} disabled={isRefreshing}>
          {isRefreshing ? 'Refreshing…' : 'Refresh'}
        </button>
      </div>
      {cp ? (
        <p data-testid="audit-checkpoint">
          Signed checkpoint at seq <strong>{cp.size}</strong>, <AuditTime at={cp.at} />, key <code>{cp.keyId}</code>
        </p>
      ) : (
        <p data-testid="audit-checkpoint">No signed checkpoint yet: the log is empty.</p>
      )}
      <p data-testid="audit-verified">
        <strong>{size.toLocaleString()}</strong> events, verified up to seq <strong>{verifiedTo}</strong>
        {uncovered > 0 && (
          <span className="muted">
            {' '}
            ({uncovered.toLocaleString()} newer {uncovered === 1 ? 'event is' : 'events are'} not yet under a signed
            checkpoint)
          </span>
        )}
      </p>
      <p className="muted small">
        This is what the server reports: the browser checks no signature or proof. For an independent check run{' '}
        <code>yoke audit verify --server {origin}</code> (the live log against its latest checkpoint), or export a
        bundle and run <code>yoke audit verify FILE</code> offline.
      </p>
      {error && (
        <p className="banner banner-error" role="alert">
          {error}
        </p>
      )}
      <details className={DISCLOSURE}>
        <summary>Public keys{keys ? ` (${keys.length})` : ''}</summary>
        {keys && keys.length === 0 && <p className="muted small">No keys published yet.</p>}
        <ul className={KEY_LIST} data-testid="audit-keys">
          {keys?.map((k) => (
            <li key={k.id}>
              <div>
                <strong>{k.name}</strong> <code>{k.id}</code>{' '}
                {k.retiredAt ? (
                  <span className="badge">retired</span>
                ) : (
                  <span className={`badge ${OUTCOME_COLOURS.success}`}>active</span>
                )}
              </div>
              <code className={LONG_VALUE}>{k.vkey}</code>
              <div className="muted small">
                created <AuditTime at={k.createdAt} />
                {k.retiredAt && (
                  <>
                    , retired <AuditTime at={k.retiredAt} />
                  </>
                )}
              </div>
            </li>
          ))}
        </ul>
      </details>
      <details className={DISCLOSURE}>
        <summary>Recent checkpoints</summary>
        {checkpoints && checkpoints.length === 0 && <p className="muted small">None yet.</p>}
        <ul
          className={`${KEY_LIST} [&_pre]:whitespace-pre-wrap [&_pre]:wrap-anywhere [&_summary]:cursor-pointer [&_summary]:text-sm [&_summary]:text-muted`}
        >
          {checkpoints?.map((c) => (
            <li key={`${c.size}-${c.at}`}>
              seq {c.size} · <AuditTime at={c.at} /> · key <code>{c.keyId}</code>
              <details>
                <summary>Signed note</summary>
                <pre>{c.note}</pre>
              </details>
            </li>
          ))}
        </ul>
      </details>
    </section>
  );
}
