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
    <span className={`badge audit-outcome audit-outcome-${outcome}`} data-testid="audit-outcome" data-outcome={outcome}>
      {outcome}
    </span>
  );
}

export function ActorLabel({ actor, names }: { actor: AuditActor; names: ReadonlyMap<string, string> }) {
  return (
    <span className="audit-actor" title={`${ACTOR_KIND_LABEL[actor.kind]} ${actor.id}`}>
      <span className={`audit-kind audit-kind-${actor.kind}`}>{ACTOR_KIND_LABEL[actor.kind]}</span>
      <span className="audit-actor-name">{actorName(actor, names)}</span>
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
      className="audit-row"
      data-testid="audit-event"
      data-seq={e.seq}
      data-action={e.action}
      data-outcome={e.outcome}
    >
      <div className="audit-event-head">
        <OutcomeBadge outcome={e.outcome} />
        <code className="audit-action" data-testid="audit-action">
          {e.action}
        </code>
        <ActorLabel actor={e.actor} names={names} />
        <button
          type="button"
          className="secondary audit-toggle"
          aria-expanded={isOpen}
          aria-controls={detailsId}
          onClick={() => setIsOpen((v) => !v)}
          data-testid="audit-event-toggle"
        >
          {isOpen ? 'Hide' : 'Details'}
          <span className="sr-only"> of event {e.seq}</span>
        </button>
      </div>
      <div className="audit-row-meta">
        <span className="audit-seq">#{e.seq}</span>
        <AuditTime at={e.at} />
        <span className="audit-target" title={`${e.target.kind} ${e.target.id}`}>
          {targetLabel(e)}
        </span>
        {e.sessionId && (
          <button
            type="button"
            className="link-button audit-session-link"
            onClick={() => onSession(e.sessionId!)}
            data-testid="audit-session-link"
          >
            session {short(e.sessionId)}
            <span className="sr-only">: show its governance timeline</span>
          </button>
        )}
      </div>
      {isOpen && (
        <div id={detailsId} className="audit-row-details">
          <EventDetails row={row} names={names} />
          <div className="audit-row-actions">
            <button type="button" className="secondary" onClick={() => onFilter({ actor: e.actor.id })}>
              Only this actor
            </button>
            <button type="button" className="secondary" onClick={() => onFilter({ action: e.action })}>
              Only this action
            </button>
            {e.sessionId && (
              <Link href={`/session/?id=${e.sessionId}`} className="audit-open-session">
                Open the session
              </Link>
            )}
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
    <dl className="audit-details" data-testid="audit-event-details">
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
          <dl className="audit-kv">
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
