'use client';

import { useState } from 'react';
import { NewSessionButton } from '@/components/new-session/new-session-button';
import { SessionFilters } from '@/components/session-list/session-filters';
import { SessionRow } from '@/components/session-list/session-row';
import { TokenField } from '@/components/session-list/token-field';
import { useNow } from '@/hooks/use-now';
import { useSessionList } from '@/hooks/use-session-list';
import { DEFAULT_FILTER, type SessionFilter } from '@/lib/session-list';

export function SessionListPage() {
  const [filter, setFilter] = useState<SessionFilter>(DEFAULT_FILTER);
  const { sessions, total, isLoading, error, hasMore, loadMore } = useSessionList(filter);
  const now = useNow();

  return (
    <div className="page list-page">
      <div className="page-head">
        <h1>Sessions</h1>
        <TokenField />
      </div>
      <SessionFilters filter={filter} onChange={setFilter} />
      {error && (
        <p className="banner banner-error" role="alert">
          {error}
        </p>
      )}
      <ul className="m-0 grid list-none gap-2 p-0" aria-busy={isLoading} data-testid="session-list">
        {sessions.map((s) => (
          <SessionRow key={s.id} session={s} now={now} />
        ))}
      </ul>
      {!isLoading && sessions.length === 0 && !error && (
        <div className="empty" data-testid="session-list-empty">
          {total === 0 ? (
            <div className="flex flex-wrap items-center gap-3">
              <span>No sessions yet. Start one here; sessions started anywhere else show up live too.</span>
              <NewSessionButton testId="new-session-empty" />
            </div>
          ) : (
            'No sessions match these filters.'
          )}
        </div>
      )}
      {isLoading && sessions.length === 0 && <p className="muted">Loading…</p>}
      {hasMore && (
        <button type="button" className="secondary load-more" onClick={loadMore} disabled={isLoading}>
          Load more
        </button>
      )}
    </div>
  );
}
