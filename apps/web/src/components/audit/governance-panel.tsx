'use client';

import Link from 'next/link';
import { useEffect, useMemo, useRef, useState } from 'react';
import { ActorLabel, AuditTime, EventDetails } from '@/components/audit/audit-event-row';
import { governanceStep, type GovernanceKind } from '@/components/audit/audit-log';
import {
  CARD_SECTION,
  EVENT_BOX,
  EVENT_HEAD,
  PLAIN_LIST,
  ROW_META,
  SECTION_HEAD,
  SECTION_TITLE,
  SEQ,
  TOGGLE,
} from '@/components/audit/audit-styles';
import { StatusBadge } from '@/components/status-badge';
import type { AuditWatch } from '@/hooks/use-audit-watch';
import { useSessionGovernance, type TreeSession } from '@/hooks/use-session-governance';
import { formatCost, formatTokens } from '@/lib/format';

/** A step's badge colours: refusals red, questions amber, approvals green, tools and prompts blue. */
const KIND_BADGE: Record<GovernanceKind, string> = {
  denied: 'bg-danger-bg text-danger',
  failed: 'bg-danger-bg text-danger',
  ask: 'bg-warn-bg text-warn',
  approval: 'bg-ok-bg text-ok',
  decision: '',
  tool: 'bg-info-bg text-accent',
  prompt: 'bg-info-bg text-accent',
  spend: '',
  session: '',
};

/** A step's rule on the left, in the same colours, so refusals and questions stand out down the list. */
const KIND_RULE: Record<GovernanceKind, string> = {
  denied: 'border-l-3 border-l-danger',
  failed: 'border-l-3 border-l-danger',
  ask: 'border-l-3 border-l-warn',
  approval: 'border-l-3 border-l-ok',
  decision: '',
  tool: '',
  prompt: '',
  spend: '',
  session: '',
};

/** How far a delegated session is indented under its parent, per level (at most six). */
const DEPTH_INDENT = ['', 'pl-4', 'pl-8', 'pl-12', 'pl-16', 'pl-20', 'pl-24'];

const KIND_LABEL: Record<GovernanceKind, string> = {
  denied: 'denied',
  failed: 'failed',
  ask: 'ask',
  approval: 'approved',
  decision: 'policy',
  tool: 'tool',
  prompt: 'prompt',
  spend: 'spend',
  session: 'session',
};

const count = (n: number, one: string) => `${n} ${n === 1 ? one : `${one}s`}`;

type Props = {
  sessionId: string;
  watch: AuditWatch;
  names: ReadonlyMap<string, string>;
  onClose: () => void;
  /** Focus the heading when it opens (chosen from a row: keyboard users land on it). */
  shouldFocus: boolean;
};

/**
 * One session tree's governance, in log order: every policy decision that was not a plain allow, the asks and
 * who answered them after how long, prompts and tool calls, for the root session and each delegated child, with
 * what each spent.
 */
export function GovernancePanel({ sessionId, watch, names, onClose, shouldFocus }: Props) {
  const g = useSessionGovernance(sessionId, watch);
  const heading = useRef<HTMLHeadingElement>(null);
  const [open, setOpen] = useState<number | null>(null);

  useEffect(() => {
    if (shouldFocus) heading.current?.focus();
  }, [sessionId, shouldFocus]);

  const byId = useMemo(() => new Map(g.sessions.map((s) => [s.id, s])), [g.sessions]);
  const steps = useMemo(() => g.rows.map((r) => ({ row: r, step: governanceStep(r.event, names) })), [g.rows, names]);
  const counts = useMemo(() => {
    const c = { denied: 0, ask: 0, approval: 0, tool: 0 };
    for (const { row, step } of steps) {
      if (step.kind === 'denied') c.denied += 1;
      // Each ask raises one approval request (its policy decision is the same ask, not a second one).
      if (row.event.action === 'approval.requested') c.ask += 1;
      if (row.event.action === 'approval.decided') c.approval += 1;
      if (row.event.action === 'tool.call') c.tool += 1;
    }
    return c;
  }, [steps]);
  const spend = g.sessions.reduce(
    (t, s) => ({
      cost: t.cost + (s.session?.costUsd ?? 0),
      input: t.input + (s.session?.inputTokens ?? 0),
      output: t.output + (s.session?.outputTokens ?? 0),
    }),
    { cost: 0, input: 0, output: 0 },
  );
  const root = g.sessions[0];

  return (
    <section className={CARD_SECTION} aria-labelledby="audit-gov-title" data-testid="audit-governance">
      <div className={SECTION_HEAD}>
        <h2 id="audit-gov-title" className={SECTION_TITLE} ref={heading} tabIndex={-1}>
          Governance of session tree{root ? `: ${root.title}` : ''}
        </h2>
        <button type="button" className="secondary" onClick={onClose} data-testid="audit-governance-close">
          Close
        </button>
      </div>
      {g.error && (
        <p className="banner banner-error" role="alert">
          {g.error}
        </p>
      )}
      {g.notes.map((n) => (
        <p key={n} className="notice notice-warning">
          {n}
        </p>
      ))}
      {g.isLoading ? (
        <p className="muted">Loading the session tree…</p>
      ) : (
        <>
          <p className="mt-0 mb-2" data-testid="audit-governance-summary">
            {[
              count(g.sessions.length, 'session'),
              `${counts.denied} denied`,
              count(counts.ask, 'ask'),
              count(counts.approval, 'decision'),
              count(counts.tool, 'tool call'),
            ].join(' · ')}{' '}
            · spend <span className="cost">{formatCost(spend.cost)}</span> ({formatTokens(spend.input)} in,{' '}
            {formatTokens(spend.output)} out)
          </p>
          <SessionTree sessions={g.sessions} focus={sessionId} />
          {steps.length === 0 ? (
            <p className="empty">No governance events in this tree yet.</p>
          ) : (
            <ol className={`${PLAIN_LIST} grid gap-1.5`} data-testid="audit-governance-events">
              {steps.map(({ row, step }) => {
                const e = row.event;
                const session = e.sessionId ? byId.get(e.sessionId) : undefined;
                const isOpen = open === e.seq;
                return (
                  <li
                    key={e.seq}
                    className={`${EVENT_BOX} bg-page ${KIND_RULE[step.kind]}`}
                    data-testid="audit-governance-event"
                    data-seq={e.seq}
                    data-action={e.action}
                  >
                    <div className={EVENT_HEAD}>
                      <span className={`badge ${KIND_BADGE[step.kind]}`}>{KIND_LABEL[step.kind]}</span>
                      <strong>{step.label}</strong>
                      {step.summary && (
                        <span className="muted max-[600px]:col-span-full max-[600px]:row-2">{step.summary}</span>
                      )}
                      <button
                        type="button"
                        className={`secondary ${TOGGLE}`}
                        aria-expanded={isOpen}
                        onClick={() => setOpen(isOpen ? null : e.seq)}
                      >
                        {isOpen ? 'Hide' : 'Details'}
                        <span className="sr-only"> of event {e.seq}</span>
                      </button>
                    </div>
                    <div className={ROW_META}>
                      <span className={SEQ}>#{e.seq}</span>
                      <AuditTime at={e.at} />
                      <ActorLabel actor={e.actor} names={names} />
                      {g.sessions.length > 1 && session && (
                        <span className="chip" title={session.id}>
                          {session.depth > 0 ? `↳ ${session.title}` : session.title}
                        </span>
                      )}
                    </div>
                    {isOpen && <EventDetails row={row} names={names} />}
                  </li>
                );
              })}
            </ol>
          )}
        </>
      )}
    </section>
  );
}

function SessionTree({ sessions, focus }: { sessions: TreeSession[]; focus: string }) {
  if (sessions.length === 0) return null;
  return (
    <ul
      className="mx-0 mt-0 mb-2.5 grid list-none gap-1 p-0 text-[14px]"
      aria-label="Sessions of the tree"
      data-testid="audit-tree"
    >
      {sessions.map((s) => (
        <li key={s.id} className={DEPTH_INDENT[Math.min(s.depth, 6)]} data-session-id={s.id}>
          {s.depth > 0 && (
            <span className="muted" aria-hidden="true">
              ↳{' '}
            </span>
          )}
          <Link
            href={`/session/?id=${s.id}`}
            className="aria-[current=true]:font-bold"
            aria-current={s.id === focus ? 'true' : undefined}
          >
            {s.title}
          </Link>{' '}
          {s.depth > 0 && <span className="sr-only">(delegated, level {s.depth})</span>}
          {s.session && <StatusBadge status={s.session.status} />}{' '}
          {s.session && (
            <span className="muted small">
              <span className="cost">{formatCost(s.session.costUsd)}</span> ·{' '}
              {formatTokens(s.session.inputTokens + s.session.outputTokens)} tokens
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}
