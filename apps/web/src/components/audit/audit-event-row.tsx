'use client';

import type { AuditActor, AuditEvent, AuditOutcome } from '@yoke/protocol';
import Link from 'next/link';
import { useId, useState } from 'react';
import {
  ACTOR_KIND_LABEL,
  actorName,
  short,
  targetLabel,
  type AuditFilter,
  type AuditRow,
} from '@/components/audit/audit-log';
import {
  EVENT_BOX,
  EVENT_HEAD,
  KEY_VALUES,
  OUTCOME_COLOURS,
  ROW_META,
  SEQ,
  TOGGLE,
} from '@/components/audit/audit-styles';

/** The actor's kind as a small tag: people in the accent colour, agents in violet, the rest muted. */
const KIND_TAG =
  'rounded-[4px] border border-border px-1.5 text-[11px] font-bold tracking-[0.04em] whitespace-nowrap uppercase';
const KIND_COLOURS: Record<AuditActor['kind'], string> = {
  user: 'bg-info-bg text-accent',
  guest: 'bg-info-bg text-accent',
  token: 'text-muted',
  runner: 'text-muted',
  agent: 'text-diff-hunk',
  system: 'text-muted',
};

/** Everything below renders event fields as text: actor names, targets and details may come from agents. */

const TIME = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

export function formatAuditTime(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : TIME.format(t);
}

export function AuditTime({ at }: { at: string }) {
  return (
    <time dateTime={at} title={at}>
      {formatAuditTime(at)}
    </time>
  );
}

export function OutcomeBadge({ outcome }: { outcome: AuditOutcome }) {
  return (
    <span className={`badge ${OUTCOME_COLOURS[outcome]}`} data-testid="audit-outcome" data-outcome={outcome}>
      {outcome}
    </span>
  );
}

export function ActorLabel({ actor, names }: { actor: AuditActor; names: ReadonlyMap<string, string> }) {
  return (
    <span
      className="inline-flex min-w-0 items-center gap-1.5 wrap-anywhere max-[600px]:col-span-full max-[600px]:row-2"
      title={`${ACTOR_KIND_LABEL[actor.kind]} ${actor.id}`}
    >
      <span className={`${KIND_TAG} ${KIND_COLOURS[actor.kind]}`}>{ACTOR_KIND_LABEL[actor.kind]}</span>
      <span>{actorName(actor, names)}</span>
    </span>
  );
}

type RowActions = {
  names: ReadonlyMap<string, string>;
  onFilter: (change: Partial<AuditFilter>) => void;
  onSession: (sessionId: string) => void;
};

/** One event of the timeline: a summary line, and its full record on demand. */
export function AuditEventRow({ row, names, onFilter, onSession }: { row: AuditRow } & RowActions) {
  const [isOpen, setIsOpen] = useState(false);
  const detailsId = useId();
  const e = row.event;
  return (
    <li
      className={`${EVENT_BOX} bg-surface`}
      data-testid="audit-event"
      data-seq={e.seq}
      data-action={e.action}
      data-outcome={e.outcome}
    >
      <div className={EVENT_HEAD}>
        <OutcomeBadge outcome={e.outcome} />
        <code className="font-bold wrap-anywhere" data-testid="audit-action">
          {e.action}
        </code>
        <ActorLabel actor={e.actor} names={names} />
        <button
          type="button"
          className={`secondary ${TOGGLE}`}
          aria-expanded={isOpen}
          aria-controls={detailsId}
          onClick={() => setIsOpen((v) => !v)}
          data-testid="audit-event-toggle"
        >
          {isOpen ? 'Hide' : 'Details'}
          <span className="sr-only"> of event {e.seq}</span>
        </button>
      </div>
      <div className={ROW_META}>
        <span className={SEQ}>#{e.seq}</span>
        <AuditTime at={e.at} />
        <span className="wrap-anywhere" title={`${e.target.kind} ${e.target.id}`}>
          {targetLabel(e)}
        </span>
        {e.sessionId && (
          <button
            type="button"
            className="link-button min-h-0 text-sm font-semibold"
            onClick={() => onSession(e.sessionId!)}
            data-testid="audit-session-link"
          >
            session {short(e.sessionId)}
            <span className="sr-only">: show its governance timeline</span>
          </button>
        )}
      </div>
      {isOpen && (
        <div id={detailsId} className="mt-2 border-t border-border pt-2">
          <EventDetails row={row} names={names} />
          <div className="mt-2 flex flex-wrap items-center gap-2">
            <button type="button" className="secondary" onClick={() => onFilter({ actor: e.actor.id })}>
              Only this actor
            </button>
            <button type="button" className="secondary" onClick={() => onFilter({ action: e.action })}>
              Only this action
            </button>
            {e.sessionId && <Link href={`/session/?id=${e.sessionId}`}>Open the session</Link>}
          </div>
        </div>
      )}
    </li>
  );
}

function detailValue(v: string | number | boolean | null): string {
  return v === null ? '—' : String(v);
}

/** The full record of an event, every field as text. */
export function EventDetails({ row, names }: { row: AuditRow; names: ReadonlyMap<string, string> }) {
  const e: AuditEvent = row.event;
  const details = Object.entries(e.details);
  const onBehalfOf = e.actor.onBehalfOf;
  return (
    <dl
      className="m-0 grid grid-cols-[max-content_minmax(0,1fr)] gap-x-3 gap-y-1 text-sm max-[600px]:grid-cols-[minmax(0,1fr)] [&>dd]:m-0 [&>dd]:min-w-0 [&>dd]:wrap-anywhere max-[600px]:[&>dd]:mb-1 [&>dt]:font-semibold [&>dt]:text-muted"
      data-testid="audit-event-details"
    >
      <dt>Event</dt>
      <dd>
        seq {e.seq} · <code>{e.id}</code>
      </dd>
      <dt>Time (UTC)</dt>
      <dd>
        <code>{e.at}</code>
      </dd>
      <dt>Actor</dt>
      <dd>
        {ACTOR_KIND_LABEL[e.actor.kind]} <code>{e.actor.id}</code>
        {e.actor.name && <> ({e.actor.name})</>}
        {onBehalfOf && (
          <>
            {' '}
            on behalf of {names.get(onBehalfOf) ?? ''} <code>{onBehalfOf}</code>
          </>
        )}
      </dd>
      <dt>Target</dt>
      <dd>
        {e.target.kind} <code>{e.target.id}</code>
        {e.target.name && <> ({e.target.name})</>}
      </dd>
      <dt>Session</dt>
      <dd>
        {e.sessionId ? <code>{e.sessionId}</code> : '—'}
        {e.turnId && (
          <>
            {' '}
            · turn <code>{e.turnId}</code>
          </>
        )}
      </dd>
      <dt>Request id</dt>
      <dd>{e.requestId ? <code>{e.requestId}</code> : '—'}</dd>
      <dt>IP</dt>
      <dd>{e.ip ?? '—'}</dd>
      <dt>User agent</dt>
      <dd>{e.userAgent ?? '—'}</dd>
      <dt>Content</dt>
      <dd data-testid="audit-content">
        {!row.content && 'none'}
        {row.content && !row.content.redacted && (
          <>
            kept apart, SHA-256 <code>{row.content.hash}</code>
          </>
        )}
        {row.content?.redacted && (
          <>
            content redacted under rule <strong>{row.content.redacted.rule}</strong> on{' '}
            {formatAuditTime(row.content.redacted.at)}; the event still verifies by its hash{' '}
            <code>{row.content.hash}</code>
          </>
        )}
      </dd>
      <dt>Leaf hash</dt>
      <dd>{row.leaf ? <code>{row.leaf}</code> : 'arrived live; shown once the event is read from the log'}</dd>
      <dt>Details</dt>
      <dd>
        {details.length === 0 ? (
          'none'
        ) : (
          <dl className={`${KEY_VALUES} [&_dt]:font-mono`}>
            {details.map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd>{detailValue(v)}</dd>
              </div>
            ))}
          </dl>
        )}
      </dd>
    </dl>
  );
}
