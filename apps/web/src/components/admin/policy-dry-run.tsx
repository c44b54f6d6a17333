import type { DryRunDecision, DryRunReport } from '@yoke/protocol';
import Link from 'next/link';
import { CARD_SUBTITLE, SIDE_SCROLL, TABLE } from '@/components/ui/panel-styles';

/** A verdict's pill colours. */
const VERDICT: Record<DryRunDecision['verdict'], string> = {
  allow: 'bg-ok-bg text-ok',
  ask: 'bg-warn-bg text-warn',
  deny: 'bg-danger-bg text-danger',
};

function verdictLabel(d: DryRunDecision): string {
  if (d.recorded === null || d.recorded === d.verdict) return d.verdict;
  return `${d.verdict} (was ${d.recorded})`;
}

/**
 * A dry run's result: the counts per session, then every action the set would ask about or deny (or decide
 * otherwise than the session recorded), with its reasons and a link to the item in its session.
 */
export function PolicyDryRun({ report }: { report: DryRunReport }) {
  const flagged = report.sessions.filter((s) => s.decisions.length > 0);
  return (
    <section className="mt-3" aria-label="Dry run result" data-testid="dry-run-report">
      <div className={SIDE_SCROLL}>
        <table className={TABLE}>
          <caption className="muted small">
            {report.policies} {report.policies === 1 ? 'policy' : 'policies'} over {report.sessions.length}{' '}
            {report.sessions.length === 1 ? 'session' : 'sessions'}
          </caption>
          <thead>
            <tr>
              <th scope="col">Session</th>
              <th scope="col">Actions</th>
              <th scope="col">Allow</th>
              <th scope="col">Ask</th>
              <th scope="col">Deny</th>
            </tr>
          </thead>
          <tbody>
            {report.sessions.map((s) => (
              <tr key={s.sessionId} data-testid="dry-run-session">
                <td>{s.title || s.sessionId}</td>
                <td>{s.actions}</td>
                <td>{s.counts.allow}</td>
                <td>{s.counts.ask}</td>
                <td>{s.counts.deny}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {flagged.length === 0 ? (
        <p className="muted small" data-testid="dry-run-none">
          Nothing in these sessions would be asked or denied.
        </p>
      ) : (
        flagged.map((s) => (
          <div key={s.sessionId} data-testid="dry-run-detail">
            <h3 className={CARD_SUBTITLE}>{s.title || s.sessionId}</h3>
            <ul className="m-0 grid list-none gap-1.5 p-0">
              {s.decisions.map((d) => (
                <li
                  key={d.seq}
                  className="flex flex-wrap items-baseline gap-2 rounded-sm border border-border bg-surface px-2 py-1.5"
                  data-testid="dry-run-decision"
                  data-verdict={d.verdict}
                  data-seq={d.seq}
                >
                  <span
                    className={`rounded-full px-1.5 py-px text-[0.8rem] font-semibold ${VERDICT[d.verdict]}`}
                    data-testid="dry-run-verdict"
                  >
                    {verdictLabel(d)}
                  </span>
                  <Link
                    href={`/session/?id=${s.sessionId}#item-${d.seq}`}
                    aria-label={`Item ${d.seq} in ${s.title || 'the session'}`}
                    data-testid="dry-run-item-link"
                  >
                    #{d.seq}
                  </Link>
                  <code
                    className="flex-[1_1_20ch] font-mono text-[0.85rem] wrap-anywhere"
                    data-testid="dry-run-summary"
                  >
                    {d.summary}
                  </code>
                  {d.reasons.length > 0 && (
                    <ul className="m-0 basis-full pl-[1.2em] text-[0.85rem] text-muted" data-testid="dry-run-reasons">
                      {d.reasons.map((r, k) => (
                        <li key={k}>{r}</li>
                      ))}
                    </ul>
                  )}
                </li>
              ))}
            </ul>
          </div>
        ))
      )}
    </section>
  );
}
