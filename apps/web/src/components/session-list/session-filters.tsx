import { SessionStatus } from '@yoke/protocol';
import { STATUS_LABEL } from '@/lib/format';
import type { SessionFilter } from '@/lib/session-list';

type Props = { filter: SessionFilter; onChange: (next: SessionFilter) => void };

export function SessionFilters({ filter, onChange }: Props) {
  return (
    <form
      className="my-3 flex flex-wrap items-center gap-2 [&_select]:w-auto"
      role="search"
      onSubmit={(e) => e.preventDefault()}
    >
      <label className="field grow max-[600px]:basis-full">
        <span className="sr-only">Search sessions</span>
        <input
          type="search"
          placeholder="Search title, harness, model…"
          value={filter.search}
          onChange={(e) => onChange({ ...filter, search: e.target.value })}
          data-testid="session-search"
        />
      </label>
      <label className="field">
        <span className="sr-only">Status</span>
        <select
          value={filter.status}
          onChange={(e) => onChange({ ...filter, status: e.target.value as SessionFilter['status'] })}
          data-testid="status-filter"
        >
          <option value="all">All statuses</option>
          {SessionStatus.options.map((s) => (
            <option key={s} value={s}>
              {STATUS_LABEL[s]}
            </option>
          ))}
        </select>
      </label>
      <label className="check">
        <input
          type="checkbox"
          checked={filter.showArchived}
          onChange={(e) => onChange({ ...filter, showArchived: e.target.checked })}
          data-testid="show-archived"
        />
        Show archived
      </label>
    </form>
  );
}
