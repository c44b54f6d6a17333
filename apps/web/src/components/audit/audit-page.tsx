'use client';

import Link from 'next/link';
import { useRouter, useSearchParams } from 'next/navigation';
import { useCallback, useEffect, useMemo, useState } from 'react';
import { fetchMembers, type AuditStatus } from '@/components/audit/audit-api';
import { AuditEventRow } from '@/components/audit/audit-event-row';
import { PLAIN_LIST, SECTION, SECTION_HEAD, SECTION_TITLE } from '@/components/audit/audit-styles';
import { AuditFilters } from '@/components/audit/audit-filters';
import {
  actorName,
  ACTOR_KIND_LABEL,
  filterSearch,
  isFiltered,
  readFilter,
  type AuditFilter,
} from '@/components/audit/audit-log';
import { ExportDialog } from '@/components/audit/export-dialog';
import { GovernancePanel } from '@/components/audit/governance-panel';
import { StreamingPanel } from '@/components/audit/streaming-panel';
import { VerificationPanel } from '@/components/audit/verification-panel';
import { useAuditLog } from '@/hooks/use-audit-log';
import { useMyRole } from '@/hooks/use-my-role';
import { useAuditStatus } from '@/hooks/use-audit-status';
import { useAuditAppended, useAuditWatch, type AuditWatch } from '@/hooks/use-audit-watch';

/**
 * `/audit/`: the org's audit log for owners, admins and auditors. The filters live in the address bar
 * (`?action=&actor=&outcome=&session=&from=&to=`), so a view can be linked; `session` also opens that session
 * tree's governance timeline.
 */
export function AuditPage() {
  const { access, refresh, isRefreshing } = useAuditStatus();
  return (
    <div className="page" data-testid="audit-page" data-access={access.kind}>
      {access.kind === 'ok' ? (
        <AuditLogView status={access.status} refresh={refresh} isRefreshing={isRefreshing} />
      ) : (
        <>
          <div className="page-head">
            <h1>Audit log</h1>
          </div>
          {access.kind === 'loading' && <p className="muted">Loading…</p>}
          {access.kind === 'forbidden' && (
            <div className="notice [&_p]:my-1" role="alert" data-testid="audit-forbidden">
              <p>
                <strong>The audit log is for owners, admins and auditors.</strong>
              </p>
              <p>
                Your role in this org does not include reading it. If your work needs it, ask an owner or an admin for
                the auditor role.
              </p>
              <p>
                <Link href="/">Back to sessions</Link>
              </p>
            </div>
          )}
          {access.kind === 'signed-out' && (
            <p className="banner banner-error" role="alert" data-testid="audit-signed-out">
              Sign in, or set an API token on the <Link href="/">sessions page</Link>, to read the audit log.
            </p>
          )}
          {access.kind === 'error' && (
            <p className="banner banner-error" role="alert">
              The audit log could not be read: {access.message}
            </p>
          )}
        </>
      )}
    </div>
  );
}

function LiveBadge({ watch }: { watch: AuditWatch }) {
  const text =
    watch.status === 'watching'
      ? 'following live'
      : watch.status === 'off'
        ? 'connecting…'
        : `live updates off: ${watch.message}`;
  const cls =
    watch.status === 'watching' ? 'conn-connected' : watch.status === 'off' ? 'conn-connecting' : 'conn-error';
  return (
    <span className={`connection ${cls}`} data-testid="audit-live" data-state={watch.status} role="status">
      <span className="dot" aria-hidden="true" />
      {text}
    </span>
  );
}

function AuditLogView({
  status,
  refresh,
  isRefreshing,
}: {
  status: AuditStatus;
  refresh: () => void;
  isRefreshing: boolean;
}) {
  const params = useSearchParams();
  const router = useRouter();
  const filter = useMemo(() => readFilter(params), [params]);
  const watch = useAuditWatch(true);
  const [latestSeq, setLatestSeq] = useState(0);
  const [focusGovernance, setFocusGovernance] = useState(false);
  const [members, setMembers] = useState<ReadonlyMap<string, string>>(new Map());
  const me = useMyRole();

  useAuditAppended((events) => setLatestSeq((n) => Math.max(n, ...events.map((e) => e.seq))));
  const size = Math.max(status.size, latestSeq);
  const log = useAuditLog(filter, size, watch);

  useEffect(() => {
    fetchMembers().then(
      (m) => setMembers(new Map(m.map((x) => [x.userId, x.name || x.email]))),
      () => setMembers(new Map()),
    );
  }, []);

  const apply = useCallback(
    (next: AuditFilter) => {
      const q = filterSearch(next);
      router.push(q ? `/audit/?${q}` : '/audit/', { scroll: false });
    },
    [router],
  );
  const refine = (change: Partial<AuditFilter>) => apply({ ...filter, ...change });
  const openSession = (sessionId: string) => {
    setFocusGovernance(true);
    apply({ ...filter, sessionId });
  };

  // Names for the actor filter's suggestions: the actors of the loaded events, then the org's members.
  const actors = useMemo(() => {
    const m = new Map<string, string>();
    for (const r of log.rows) {
      const a = r.event.actor;
      if (!m.has(a.id)) m.set(a.id, `${ACTOR_KIND_LABEL[a.kind]}: ${actorName(a, members)}`);
    }
    for (const [id, name] of members) if (!m.has(id)) m.set(id, `user: ${name}`);
    return m;
  }, [log.rows, members]);
  const actions = useMemo(() => [...new Set(log.rows.map((r) => r.event.action))], [log.rows]);

  const filtered = isFiltered(filter);
  return (
    <>
      <div className="page-head">
        <div>
          <h1>Audit log</h1>
          <p className="muted small m-0">
            Every action in this org, in order: who, what, on what, and how it ended. Append-only and signed.
          </p>
        </div>
        <div className="flex flex-wrap items-center gap-2.5">
          <LiveBadge watch={watch} />
          <ExportDialog filter={filter} />
        </div>
      </div>

      <VerificationPanel status={status} size={size} onRefresh={refresh} isRefreshing={isRefreshing} />

      <StreamingPanel canManage={me?.role === 'owner' || me?.role === 'admin'} />

      <AuditFilters filter={filter} onApply={apply} actors={actors} actions={actions} />

      {filter.sessionId && (
        <GovernancePanel
          sessionId={filter.sessionId}
          watch={watch}
          names={members}
          shouldFocus={focusGovernance}
          onClose={() => {
            setFocusGovernance(false);
            apply({ ...filter, sessionId: '' });
          }}
        />
      )}

      <section className={SECTION} aria-labelledby="audit-events-title">
        <div className={SECTION_HEAD}>
          <h2 id="audit-events-title" className={SECTION_TITLE}>
            Events
          </h2>
          <span className="muted small">
            Oldest first; the newest is last. <a href="#audit-end">Jump to the newest</a>
          </span>
        </div>
        {log.error && (
          <p className="banner banner-error" role="alert" data-testid="audit-error">
            {log.error}{' '}
            {!log.isLoaded && (
              <button type="button" className="link-button" onClick={log.reload}>
                Try again
              </button>
            )}
          </p>
        )}
        {log.hasEarlier && (
          <button
            type="button"
            className="secondary load-more"
            onClick={log.loadEarlier}
            disabled={log.busy !== null}
            data-testid="audit-load-earlier"
          >
            {log.busy === 'earlier' ? 'Loading…' : 'Load earlier events'}
          </button>
        )}
        <ol className={`${PLAIN_LIST} grid gap-1.5`} aria-busy={log.busy !== null} data-testid="audit-events">
          {log.rows.map((row) => (
            <AuditEventRow key={row.event.seq} row={row} names={members} onFilter={refine} onSession={openSession} />
          ))}
        </ol>
        {log.isLoaded && log.rows.length === 0 && !log.error && (
          <p className="empty" data-testid="audit-empty">
            {filtered ? 'No events match these filters.' : 'No events yet.'}
          </p>
        )}
        {!log.isLoaded && !log.error && <p className="muted">Loading events…</p>}
        {log.hasMore && (
          <button
            type="button"
            className="secondary load-more"
            onClick={log.loadMore}
            disabled={log.busy !== null}
            data-testid="audit-load-more"
          >
            {log.busy === 'more' ? 'Loading…' : 'Load more'}
          </button>
        )}
        <p id="audit-end" className="muted small min-h-[1.5em] text-center" role="status" data-testid="audit-newer">
          {log.newer > 0
            ? `${log.newer} newer ${log.newer === 1 ? 'event' : 'events'} arrived past the loaded pages: load more to reach them.`
            : log.isLoaded && !log.hasMore && watch.status === 'watching'
              ? 'Up to date: new events appear here as they happen.'
              : ''}
        </p>
      </section>
    </>
  );
}
