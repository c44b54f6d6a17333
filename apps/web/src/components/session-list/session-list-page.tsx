'use client';

import { useState } from 'react';
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
      <ul className="session-list" aria-busy={isLoading} data-testid="session-list">
        {sessions.map((s) => (
          <SessionRow key={s.id} session={s} now={now} />
        ))}
      </ul>
      {!isLoading && sessions.length === 0 && !error && (
        <p className="empty" data-testid="session-list-empty">
          {total === 0
            ? 'No sessions yet. Sessions started from the CLI or the API show up here live.'
            : 'No sessions match these filters.'}
        </p>
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
