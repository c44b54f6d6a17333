'use client';

import {
  AuditSinkFormat,
  AuditSinkKind,
  isAuditSinkUrl,
  type AuditSinkHealth,
  type AuditSinkView,
} from '@yoke/protocol';
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import {
  createAuditSink,
  deleteAuditSink,
  fetchAuditSinks,
  testAuditSink,
  updateAuditSink,
} from '@/components/audit/audit-api';
import { AuditTime } from '@/components/audit/audit-event-row';
import {
  CARD_SECTION,
  DISCLOSURE,
  FIELD_CAPTION,
  KEY_VALUES,
  LONG_VALUE,
  OUTCOME_COLOURS,
  PLAIN_LIST,
  SECTION_HEAD,
  SECTION_TITLE,
} from '@/components/audit/audit-styles';
import { describeError } from '@/lib/api';

/** How often the sinks' health is read again while the page is open. */
const REFRESH_MS = 10_000;

const KIND_LABEL: Record<AuditSinkKind, string> = {
  webhook: 'Webhook (signed JSON)',
  otlp_logs: 'OpenTelemetry logs (OTLP/HTTP)',
};
const FORMAT_LABEL: Record<AuditSinkFormat, string> = { yoke: 'Yoke events', ocsf: 'OCSF 1.3' };
/** A delivery error: red, and broken anywhere so a long message does not widen the page. */
const LAST_ERROR = 'm-0 text-danger wrap-anywhere';

const HEALTH_CLASS: Record<AuditSinkHealth, string> = {
  healthy: `badge ${OUTCOME_COLOURS.success}`,
  idle: 'badge',
  paused: `badge ${OUTCOME_COLOURS.denied}`,
  failing: `badge ${OUTCOME_COLOURS.failed}`,
};
const HEALTH_LABEL: Record<AuditSinkHealth, string> = {
  healthy: 'delivering',
  idle: 'up to date',
  paused: 'paused',
  failing: 'failing',
};

type Draft = { name: string; kind: AuditSinkKind; url: string; format: AuditSinkFormat };
const EMPTY: Draft = { name: '', kind: 'webhook', url: '', format: 'yoke' };

/**
 * Streaming to a SIEM: the org's sinks, each with its health, how far behind it is and its last error. Owners and
 * admins add, pause, resume and delete them; auditors see them. A webhook's signing secret is shown once, right
 * after it is made.
 */
export function StreamingPanel({ canManage }: { canManage: boolean }) {
  const [sinks, setSinks] = useState<AuditSinkView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [isAdding, setIsAdding] = useState(false);
  const [busy, setBusy] = useState<string | null>(null);
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [isFormOpen, setIsFormOpen] = useState(false);
  const [tested, setTested] = useState<{ id: string; ok: boolean; error: string | null } | null>(null);

  const load = useCallback((signal?: AbortSignal) => {
    fetchAuditSinks(signal).then(
      (list) => {
        setSinks(list);
        setError(null);
      },
      (err: unknown) => {
        if (!signal?.aborted) setError(describeError(err));
      },
    );
  }, []);

  useEffect(() => {
    const ctrl = new AbortController();
    load(ctrl.signal);
    const id = setInterval(() => load(ctrl.signal), REFRESH_MS);
    return () => {
      clearInterval(id);
      ctrl.abort();
    };
  }, [load]);

  const replace = (view: AuditSinkView) => setSinks((list) => list?.map((s) => (s.id === view.id ? view : s)) ?? null);

  const add = (e: FormEvent) => {
    e.preventDefault();
    const url = draft.url.trim();
    if (!isAuditSinkUrl(url)) {
      setError('The URL must be https (or http to 127.0.0.1, ::1 or localhost), without a user name or password.');
      return;
    }
    setIsAdding(true);
    setError(null);
    createAuditSink({ name: draft.name.trim(), kind: draft.kind, url, format: draft.format }).then(
      (made) => {
        setSinks((list) => [...(list ?? []), made.sink]);
        setCreated(made.secret ? { name: made.sink.name, secret: made.secret } : null);
        setDraft(EMPTY);
        setIsAdding(false);
        setIsFormOpen(false);
      },
      (err: unknown) => {
        setError(describeError(err));
        setIsAdding(false);
      },
    );
  };

  const toggle = (sink: AuditSinkView) => {
    setBusy(sink.id);
    updateAuditSink(sink.id, { enabled: !sink.enabled }).then(
      (view) => {
        replace(view);
        setBusy(null);
      },
      (err: unknown) => {
        setError(describeError(err));
        setBusy(null);
      },
    );
  };

  const sendTest = (sink: AuditSinkView) => {
    setBusy(sink.id);
    setTested(null);
    testAuditSink(sink.id).then(
      (r) => {
        setTested({ id: sink.id, ...r });
        setBusy(null);
      },
      (err: unknown) => {
        setError(describeError(err));
        setBusy(null);
      },
    );
  };

  const remove = (sink: AuditSinkView) => {
    setBusy(sink.id);
    deleteAuditSink(sink.id).then(
      () => {
        setSinks((list) => list?.filter((s) => s.id !== sink.id) ?? null);
        setConfirming(null);
        setBusy(null);
      },
      (err: unknown) => {
        setError(describeError(err));
        setBusy(null);
      },
    );
  };

  const set = (k: keyof Draft) => (e: { target: { value: string } }) =>
    setDraft((d) => ({ ...d, [k]: e.target.value }));

  return (
    <section className={CARD_SECTION} aria-labelledby="audit-streaming-title" data-testid="audit-streaming">
      <div className={SECTION_HEAD}>
        <h2 id="audit-streaming-title" className={SECTION_TITLE}>
          Streaming
        </h2>
        <span className="muted small">
          Every event is sent to each sink at least once, in order; the event id is the dedupe key.
        </span>
      </div>
      {error && (
        <p className="banner banner-error" role="alert" data-testid="audit-sink-error">
          {error}
        </p>
      )}
      {created && (
        <div className="notice notice-warning [&_p]:my-1" role="status" data-testid="audit-sink-secret">
          <p>
            <strong>Signing secret of {created.name}</strong>: copy it now, it is not shown again.
          </p>
          <code className={LONG_VALUE}>{created.secret}</code>
          <p className="muted small">
            Check each delivery: <code>x-yoke-signature</code> is <code>v1=</code> and the hex HMAC-SHA256 of{' '}
            <code>timestamp.body</code> under this secret.
          </p>
          <button type="button" className="secondary" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      )}
      {sinks && sinks.length === 0 && (
        <p className="muted" data-testid="audit-sinks-empty">
          No sinks: the log is not streamed anywhere.
        </p>
      )}
      {!sinks && !error && <p className="muted">Loading sinks…</p>}
      <ul className={`${PLAIN_LIST} grid gap-2.5`} data-testid="audit-sinks">
        {sinks?.map((s) => (
          <li
            key={s.id}
            className="grid min-w-0 gap-1.5 border-t border-border py-2.5"
            data-testid="audit-sink"
            data-health={s.health}
          >
            <div className="flex flex-wrap items-baseline gap-x-2.5 gap-y-1">
              <strong>{s.name}</strong>
              <span className={HEALTH_CLASS[s.health]} data-testid="audit-sink-health">
                {HEALTH_LABEL[s.health]}
              </span>
              <span className="muted small">
                {KIND_LABEL[s.kind]} · {FORMAT_LABEL[s.format]}
              </span>
            </div>
            <code className={LONG_VALUE}>{s.url}</code>
            <dl className={KEY_VALUES}>
              <div>
                <dt>{s.lastDeliveredAt ? 'Delivered up to' : 'Starts after'}</dt>
                <dd>seq {s.cursor.toLocaleString()}</dd>
              </div>
              <div>
                <dt>Behind by</dt>
                <dd data-testid="audit-sink-lag">
                  {s.lag.toLocaleString()} {s.lag === 1 ? 'event' : 'events'}
                </dd>
              </div>
              <div>
                <dt>Last delivered</dt>
                <dd>{s.lastDeliveredAt ? <AuditTime at={s.lastDeliveredAt} /> : 'never'}</dd>
              </div>
              {s.failingSince && (
                <div>
                  <dt>Failing since</dt>
                  <dd>
                    <AuditTime at={s.failingSince} />
                  </dd>
                </div>
              )}
            </dl>
            {s.lastError && (
              <p className={`${LAST_ERROR} small`} data-testid="audit-sink-last-error">
                Last error: {s.lastError}
              </p>
            )}
            {tested?.id === s.id && (
              <p className={`small ${tested.ok ? '' : LAST_ERROR}`} role="status" data-testid="audit-sink-test-result">
                {tested.ok ? 'The test delivery was acknowledged.' : `The test delivery failed: ${tested.error}`}
              </p>
            )}
            {canManage && (
              <div className="flex flex-wrap items-center gap-2">
                <button
                  type="button"
                  className="secondary"
                  onClick={() => toggle(s)}
                  disabled={busy === s.id}
                  data-testid="audit-sink-toggle"
                >
                  {s.enabled ? 'Pause' : 'Resume'}
                </button>
                <button
                  type="button"
                  className="secondary"
                  onClick={() => sendTest(s)}
                  disabled={busy === s.id}
                  data-testid="audit-sink-test"
                >
                  Send test
                </button>
                {confirming === s.id ? (
                  <>
                    <span className="small">Delete {s.name}? Events stop going there.</span>
                    <button
                      type="button"
                      className="danger"
                      onClick={() => remove(s)}
                      disabled={busy === s.id}
                      data-testid="audit-sink-delete-confirm"
                    >
                      Delete
                    </button>
                    <button type="button" className="secondary" onClick={() => setConfirming(null)}>
                      Keep
                    </button>
                  </>
                ) : (
                  <button
                    type="button"
                    className="secondary"
                    onClick={() => setConfirming(s.id)}
                    data-testid="audit-sink-delete"
                  >
                    Delete…
                  </button>
                )}
              </div>
            )}
          </li>
        ))}
      </ul>
      {canManage && (
        <details className={DISCLOSURE} open={isFormOpen} onToggle={(e) => setIsFormOpen(e.currentTarget.open)}>
          <summary>Add a sink</summary>
          <form
            className="mt-2 grid grid-cols-[repeat(auto-fill,minmax(220px,1fr))] gap-x-2.5 gap-y-2"
            onSubmit={add}
            data-testid="audit-sink-form"
          >
            <label className="field">
              <span className={FIELD_CAPTION}>Name</span>
              <input value={draft.name} onChange={set('name')} required maxLength={100} autoComplete="off" />
            </label>
            <label className="field">
              <span className={FIELD_CAPTION}>Kind</span>
              <select value={draft.kind} onChange={set('kind')} data-testid="audit-sink-kind">
                {AuditSinkKind.options.map((k) => (
                  <option key={k} value={k}>
                    {KIND_LABEL[k]}
                  </option>
                ))}
              </select>
            </label>
            <label className="field">
              <span className={FIELD_CAPTION}>{draft.kind === 'otlp_logs' ? 'OTLP/HTTP logs endpoint' : 'URL'}</span>
              <input
                type="url"
                value={draft.url}
                onChange={set('url')}
                required
                placeholder={
                  draft.kind === 'otlp_logs' ? 'https://collector.example/v1/logs' : 'https://siem.example/hook'
                }
                autoComplete="off"
                spellCheck={false}
                data-testid="audit-sink-url"
              />
            </label>
            <label className="field">
              <span className={FIELD_CAPTION}>Format</span>
              <select value={draft.format} onChange={set('format')}>
                {AuditSinkFormat.options.map((f) => (
                  <option key={f} value={f}>
                    {FORMAT_LABEL[f]}
                  </option>
                ))}
              </select>
            </label>
            <div>
              <button type="submit" disabled={isAdding} data-testid="audit-sink-add">
                {isAdding ? 'Adding…' : 'Add sink'}
              </button>
            </div>
          </form>
          <p className="muted small">
            The first event a new sink receives is its own creation. A webhook gets a signing secret, shown once.
          </p>
        </details>
      )}
    </section>
  );
}
