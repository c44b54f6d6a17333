'use client';

import { AuditOutcome, Uuid } from '@yoke/protocol';
import { useState, type FormEvent } from 'react';
import {
  EMPTY_FILTER,
  filterSearch,
  isFiltered,
  KNOWN_ACTIONS,
  toIso,
  toLocalInput,
  type AuditFilter,
} from '@/components/audit/audit-log';
import { FIELD_CAPTION } from '@/components/audit/audit-styles';

/** Apply and Clear share the row's width equally. */
const FILTER_BUTTON = 'flex-1';

type Draft = Omit<AuditFilter, 'from' | 'to'> & { from: string; to: string };

const toDraft = (f: AuditFilter): Draft => ({ ...f, from: toLocalInput(f.from), to: toLocalInput(f.to) });

const ACTION = /^[a-z][a-z_]*(\.[a-z][a-z_]*)+$/;

type Props = {
  filter: AuditFilter;
  onApply: (next: AuditFilter) => void;
  /** Actors seen in the loaded events and the org's members: id → readable name. */
  actors: ReadonlyMap<string, string>;
  actions: readonly string[];
};

/**
 * The timeline's filters. They apply on submit (Enter or "Apply"), not on every keystroke: each read of the log
 * is itself an audited event.
 */
export function AuditFilters({ filter, onApply, actors, actions }: Props) {
  const [draft, setDraft] = useState<Draft>(() => toDraft(filter));
  const key = filterSearch(filter);
  const [synced, setSynced] = useState(key);
  const [problem, setProblem] = useState<string | null>(null);
  if (synced !== key) {
    // The address bar changed (a row's "only this actor", back/forward): show what is applied.
    setSynced(key);
    setDraft(toDraft(filter));
    setProblem(null);
  }
  const set = (k: keyof Draft) => (e: { target: { value: string } }) =>
    setDraft((d) => ({ ...d, [k]: e.target.value }));

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const action = draft.action.trim();
    const sessionId = draft.sessionId.trim().toLowerCase();
    if (action && !ACTION.test(action)) {
      setProblem('An action reads domain.verb in lowercase, for example api_token.created.');
      return;
    }
    if (sessionId && !Uuid.safeParse(sessionId).success) {
      setProblem('A session id is a UUID, for example 3f1c…-….');
      return;
    }
    const from = toIso(draft.from);
    const to = toIso(draft.to);
    if (from && to && from > to) {
      setProblem('The start of the range is after its end.');
      return;
    }
    setProblem(null);
    onApply({ action, actor: draft.actor.trim(), outcome: draft.outcome, sessionId, from, to });
  };

  const suggestions = [...new Set([...KNOWN_ACTIONS, ...actions])].sort();
  return (
    <form
      className="grid grid-cols-[repeat(auto-fill,minmax(200px,1fr))] items-end gap-x-2.5 gap-y-2 max-[600px]:grid-cols-2 min-[900px]:grid-cols-4"
      role="search"
      aria-label="Filter the audit log"
      onSubmit={submit}
    >
      <label className="field">
        <span className={FIELD_CAPTION}>Action</span>
        <input
          value={draft.action}
          onChange={set('action')}
          list="audit-action-options"
          placeholder="any, e.g. tool.call"
          autoComplete="off"
          spellCheck={false}
          data-testid="audit-filter-action"
        />
        <datalist id="audit-action-options">
          {suggestions.map((a) => (
            <option key={a} value={a} />
          ))}
        </datalist>
      </label>
      <label className="field">
        <span className={FIELD_CAPTION}>Actor id</span>
        <input
          value={draft.actor}
          onChange={set('actor')}
          list="audit-actor-options"
          placeholder="any"
          autoComplete="off"
          spellCheck={false}
          data-testid="audit-filter-actor"
        />
        <datalist id="audit-actor-options">
          {[...actors].map(([id, name]) => (
            <option key={id} value={id} label={name} />
          ))}
        </datalist>
      </label>
      <label className="field">
        <span className={FIELD_CAPTION}>Outcome</span>
        <select
          value={draft.outcome}
          onChange={(e) => setDraft((d) => ({ ...d, outcome: e.target.value as Draft['outcome'] }))}
          data-testid="audit-filter-outcome"
        >
          <option value="">any</option>
          {AuditOutcome.options.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span className={FIELD_CAPTION}>Session id</span>
        <input
          value={draft.sessionId}
          onChange={set('sessionId')}
          placeholder="any"
          autoComplete="off"
          spellCheck={false}
          data-testid="audit-filter-session"
        />
      </label>
      <label className="field max-[600px]:col-span-full">
        <span className={FIELD_CAPTION}>From</span>
        <input
          type="datetime-local"
          step={1}
          value={draft.from}
          onChange={set('from')}
          data-testid="audit-filter-from"
        />
      </label>
      <label className="field max-[600px]:col-span-full">
        <span className={FIELD_CAPTION}>To</span>
        <input type="datetime-local" step={1} value={draft.to} onChange={set('to')} data-testid="audit-filter-to" />
      </label>
      <div className="flex gap-2 max-[600px]:col-span-full min-[900px]:col-span-2">
        <button type="submit" className={FILTER_BUTTON} data-testid="audit-filter-apply">
          Apply
        </button>
        <button
          type="button"
          className={`secondary ${FILTER_BUTTON}`}
          disabled={!isFiltered(filter) && !isFiltered({ ...draft, from: toIso(draft.from), to: toIso(draft.to) })}
          onClick={() => {
            setDraft(toDraft(EMPTY_FILTER));
            setProblem(null);
            onApply(EMPTY_FILTER);
          }}
          data-testid="audit-filter-clear"
        >
          Clear
        </button>
      </div>
      {problem && (
        <p className="banner banner-error col-span-full m-0" role="alert">
          {problem}
        </p>
      )}
    </form>
  );
}
