'use client';

import {
  LegalHoldScope,
  Uuid,
  type LegalHoldView,
  type MemberView,
  type RetentionPreview,
  type RetentionRunResult,
  type RetentionSettingsView,
} from '@yoke/protocol';
import Link from 'next/link';
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import {
  fetchLegalHolds,
  fetchRetention,
  fetchRetentionPreview,
  placeLegalHold,
  releaseLegalHold,
  runRetention,
  updateRetention,
} from '@/components/admin/retention-api';
import { describeError, request } from '@/lib/api';
import { listMembers } from '@/lib/collab-api';
import { countLines, describeDays, draftOf, parseDays, scopeLabel, type DaysDraft } from '@/lib/retention';
import { useMyRole } from '@/hooks/use-my-role';
import {
  BOXED_ITEM,
  BOXED_LIST,
  CARD,
  CARD_FORM,
  CARD_HEAD,
  CARD_SUBTITLE,
  CARD_TITLE,
  PANEL,
  SIDE_SCROLL,
  TABLE,
  TIGHT_LIST,
} from '@/components/ui/panel-styles';

const when = (iso: string) => new Date(iso).toLocaleString();

/**
 * Retention and legal hold: how long the org keeps session content and audit content, what a sweep would erase now
 * (the dry-run), and the legal holds that keep content past its retention. Owners and admins change them; auditors
 * read them; members see nothing (the server refuses them).
 */
export function RetentionPanel() {
  const me = useMyRole();
  const canManage = me !== null && (me.role === 'owner' || me.role === 'admin');
  const [error, setError] = useState<string | null>(null);
  const [version, setVersion] = useState(0);
  const changed = useCallback(() => setVersion((v) => v + 1), []);
  const fail = useCallback((err: unknown) => setError(describeError(err)), []);
  return (
    <section aria-label="Retention" className={PANEL} data-testid="retention-panel">
      {error && (
        <p className="banner banner-error" role="alert">
          {error}
        </p>
      )}
      <Durations canManage={canManage} onSaved={changed} onError={fail} />
      <Preview version={version} canManage={canManage} onRun={changed} onError={fail} />
      <Holds version={version} canManage={canManage} onChange={changed} onError={fail} />
    </section>
  );
}

type Props = { canManage: boolean; onError: (err: unknown) => void };

function Durations({ canManage, onSaved, onError }: Props & { onSaved: () => void }) {
  const [saved, setSaved] = useState<RetentionSettingsView | null>(null);
  const [session, setSession] = useState<DaysDraft>(draftOf(null));
  const [audit, setAudit] = useState<DaysDraft>(draftOf(null));
  const [isSaving, setIsSaving] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const load = useCallback((s: RetentionSettingsView) => {
    setSaved(s);
    setSession(draftOf(s.sessionContentDays));
    setAudit(draftOf(s.auditContentDays));
  }, []);
  useEffect(() => {
    fetchRetention().then(load, onError);
  }, [load, onError]);
  const sessionDays = parseDays(session);
  const auditDays = parseDays(audit);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!sessionDays.ok || !auditDays.ok) return;
    setIsSaving(true);
    setNotice(null);
    updateRetention({ sessionContentDays: sessionDays.days, auditContentDays: auditDays.days })
      .then((s) => {
        load(s);
        setNotice('Saved. The nightly sweep applies it; the preview below shows what it would erase now.');
        onSaved();
      }, onError)
      .finally(() => setIsSaving(false));
  };
  return (
    <form className={CARD} onSubmit={submit} aria-labelledby="retention-durations">
      <h2 id="retention-durations" className={CARD_TITLE}>
        How long content is kept
      </h2>
      <p className="muted small">
        Session content (prompts, messages, reasoning, tool input and output, command output, file diffs, notices)
        counts from the session&apos;s last activity; audit content from its event. Audit events themselves are always
        kept: erased content shows as <em>redacted</em>, and the log still verifies.
      </p>
      <div className="grid grid-cols-[repeat(auto-fit,minmax(220px,1fr))] gap-3">
        <DaysField label="Session content" draft={session} onChange={setSession} disabled={!canManage} />
        <DaysField label="Audit content" draft={audit} onChange={setAudit} disabled={!canManage} />
      </div>
      {saved?.updatedAt && <p className="muted small">Last changed {when(saved.updatedAt)}.</p>}
      {canManage && (
        <div className="form-row">
          <button type="submit" disabled={isSaving || !sessionDays.ok || !auditDays.ok} data-testid="retention-save">
            {isSaving ? 'Saving…' : 'Save'}
          </button>
          {notice && (
            <span className="small" role="status">
              {notice}
            </span>
          )}
        </div>
      )}
    </form>
  );
}

function DaysField({
  label,
  draft,
  onChange,
  disabled,
}: {
  label: string;
  draft: DaysDraft;
  onChange: (d: DaysDraft) => void;
  disabled: boolean;
}) {
  const id = useId();
  const parsed = parseDays(draft);
  return (
    <fieldset className="m-0 grid min-w-0 gap-1.5 rounded-sm border border-border" disabled={disabled}>
      <legend>{label}</legend>
      <label className="check">
        <input
          type="checkbox"
          checked={draft.forever}
          onChange={(e) => onChange({ ...draft, forever: e.target.checked })}
        />
        Keep forever
      </label>
      <label className="field" htmlFor={id}>
        <span>Days</span>
        <input
          id={id}
          type="number"
          inputMode="numeric"
          min={1}
          max={36_500}
          step={1}
          value={draft.days}
          disabled={draft.forever || disabled}
          aria-invalid={!parsed.ok}
          aria-describedby={`${id}-help`}
          onChange={(e) => onChange({ ...draft, days: e.target.value })}
        />
      </label>
      <span id={`${id}-help`} className={parsed.ok ? 'muted small' : 'small text-danger'}>
        {parsed.ok ? describeDays(parsed.days) : parsed.error}
      </span>
    </fieldset>
  );
}

function Preview({ version, canManage, onRun, onError }: Props & { version: number; onRun: () => void }) {
  const [preview, setPreview] = useState<RetentionPreview | null>(null);
  const [isLoading, setIsLoading] = useState(false);
  const [isConfirming, setIsConfirming] = useState(false);
  const [isRunning, setIsRunning] = useState(false);
  const [result, setResult] = useState<RetentionRunResult | null>(null);
  const refresh = useCallback(() => {
    setIsLoading(true);
    fetchRetentionPreview()
      .then(setPreview, onError)
      .finally(() => setIsLoading(false));
  }, [onError]);
  useEffect(() => refresh(), [refresh, version]);
  const run = () => {
    setIsRunning(true);
    runRetention()
      .then((r) => {
        setResult(r);
        setIsConfirming(false);
        onRun();
      }, onError)
      .finally(() => setIsRunning(false));
  };
  const lines = preview ? countLines(preview.counts) : [];
  return (
    <section className={CARD} aria-labelledby="retention-preview">
      <div className={CARD_HEAD}>
        <h2 id="retention-preview" className={CARD_TITLE}>
          What would be erased now
        </h2>
        <button type="button" className="secondary" onClick={refresh} disabled={isLoading}>
          {isLoading ? 'Checking…' : 'Refresh'}
        </button>
      </div>
      {preview && (
        <>
          {lines.length === 0 ? (
            <p className="muted" data-testid="retention-preview-empty">
              Nothing: no content is past its retention, or a hold keeps it.
            </p>
          ) : (
            <ul className={TIGHT_LIST} data-testid="retention-preview-counts">
              {lines.map((l) => (
                <li key={l}>{l}</li>
              ))}
            </ul>
          )}
          {preview.sessions.length > 0 && (
            <div className={`${SIDE_SCROLL} mt-1.5`}>
              <table className={TABLE} data-testid="retention-preview-sessions">
                <caption className="sr-only">Sessions whose content would be erased</caption>
                <thead>
                  <tr>
                    <th>Session</th>
                    <th>Last activity</th>
                    <th>Items</th>
                  </tr>
                </thead>
                <tbody>
                  {preview.sessions.map((s) => (
                    <tr key={s.id}>
                      <td>
                        <Link href={`/session/?id=${s.id}`}>{s.title || s.id}</Link>
                      </td>
                      <td>{when(s.lastActivityAt)}</td>
                      <td>{s.items}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {preview.truncated && (
                <p className="muted small">
                  The first {preview.sessions.length} of {preview.counts.sessions} sessions.
                </p>
              )}
            </div>
          )}
          {(preview.held.sessions.length > 0 || preview.held.auditContents > 0) && (
            <div data-testid="retention-preview-held">
              <h3 className={CARD_SUBTITLE}>Kept by a legal hold</h3>
              <ul className={TIGHT_LIST}>
                {preview.held.sessions.map((s) => (
                  <li key={s.id}>
                    <Link href={`/session/?id=${s.id}`}>{s.title || s.id}</Link>{' '}
                    <span className="muted small">
                      ({s.holds.map((h) => scopeLabel(h.scope).toLowerCase()).join(', ')} hold)
                    </span>
                  </li>
                ))}
                {preview.held.auditContents > 0 && <li>{preview.held.auditContents} audit contents</li>}
              </ul>
            </div>
          )}
        </>
      )}
      {canManage && (
        <div className="form-row">
          {isConfirming ? (
            <>
              <span className="small">Erase this now? It cannot be undone.</span>
              <button
                type="button"
                className="danger"
                onClick={run}
                disabled={isRunning}
                data-testid="retention-run-confirm"
              >
                {isRunning ? 'Erasing…' : 'Erase now'}
              </button>
              <button type="button" className="secondary" onClick={() => setIsConfirming(false)}>
                Cancel
              </button>
            </>
          ) : (
            <button
              type="button"
              className="secondary"
              onClick={() => setIsConfirming(true)}
              data-testid="retention-run"
            >
              Run the sweep now…
            </button>
          )}
          {result && (
            <span className="small" role="status">
              Erased {result.counts.sessionItems} items in {result.counts.sessions} sessions and redacted{' '}
              {result.counts.auditContents} audit contents.
            </span>
          )}
        </div>
      )}
    </section>
  );
}

function Holds({ version, canManage, onChange, onError }: Props & { version: number; onChange: () => void }) {
  const [holds, setHolds] = useState<LegalHoldView[] | null>(null);
  const [showReleased, setShowReleased] = useState(false);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  useEffect(() => {
    fetchLegalHolds(showReleased).then(setHolds, onError);
  }, [showReleased, version, onError]);
  const release = (id: string) => {
    setBusy(id);
    releaseLegalHold(id)
      .then(() => {
        setConfirming(null);
        onChange();
      }, onError)
      .finally(() => setBusy(null));
  };
  return (
    <section className={CARD} aria-labelledby="retention-holds">
      <div className={CARD_HEAD}>
        <h2 id="retention-holds" className={CARD_TITLE}>
          Legal holds
        </h2>
        <label className="check">
          <input type="checkbox" checked={showReleased} onChange={(e) => setShowReleased(e.target.checked)} />
          Show released
        </label>
      </div>
      <p className="muted small">
        While a hold is in place, nothing it covers is erased: the whole org, everything of a user (their sessions and
        the audit content of what they did), or one session.
      </p>
      {holds && holds.length === 0 && <p className="muted">No holds.</p>}
      {holds && holds.length > 0 && (
        <ul className={BOXED_LIST} data-testid="legal-holds">
          {holds.map((h) => (
            <li key={h.id} className={h.releasedAt ? `${BOXED_ITEM} opacity-70` : BOXED_ITEM} data-testid="legal-hold">
              <div>
                <strong>{scopeLabel(h.scope)}</strong>:{' '}
                {h.scope === 'session' ? (
                  <Link href={`/session/?id=${h.targetId}`}>{h.targetLabel}</Link>
                ) : (
                  h.targetLabel
                )}
              </div>
              <div className="small">{h.reason}</div>
              <div className="muted small">
                Placed {when(h.createdAt)}
                {h.releasedAt && ` · released ${when(h.releasedAt)}`}
              </div>
              {canManage && !h.releasedAt && (
                <div className="form-row">
                  {confirming === h.id ? (
                    <>
                      <span className="small">Release this hold? Its content can then be erased.</span>
                      <button
                        type="button"
                        className="danger"
                        onClick={() => release(h.id)}
                        disabled={busy === h.id}
                        data-testid="legal-hold-release-confirm"
                      >
                        Release
                      </button>
                      <button type="button" className="secondary" onClick={() => setConfirming(null)}>
                        Keep
                      </button>
                    </>
                  ) : (
                    <button
                      type="button"
                      className="secondary"
                      onClick={() => setConfirming(h.id)}
                      data-testid="legal-hold-release"
                    >
                      Release…
                    </button>
                  )}
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {canManage && <PlaceHold onPlaced={onChange} onError={onError} />}
    </section>
  );
}

function PlaceHold({ onPlaced, onError }: { onPlaced: () => void; onError: (err: unknown) => void }) {
  const [scope, setScope] = useState<LegalHoldScope>('session');
  const [target, setTarget] = useState('');
  const [reason, setReason] = useState('');
  const [members, setMembers] = useState<MemberView[]>([]);
  const [orgId, setOrgId] = useState<string | null>(null);
  const [isPlacing, setIsPlacing] = useState(false);
  useEffect(() => {
    listMembers().then(setMembers, onError);
    request('/me').then((me) => {
      const id = Uuid.safeParse((me as { orgId?: unknown } | null)?.orgId);
      setOrgId(id.success ? id.data : null);
    }, onError);
  }, [onError]);
  const targetId = scope === 'org' ? (orgId ?? '') : target.trim();
  const isValid = Uuid.safeParse(targetId).success && reason.trim().length > 0 && reason.length <= 500;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!isValid) return;
    setIsPlacing(true);
    placeLegalHold({ scope, targetId, reason: reason.trim() })
      .then(() => {
        setTarget('');
        setReason('');
        onPlaced();
      }, onError)
      .finally(() => setIsPlacing(false));
  };
  return (
    <form className={CARD_FORM} onSubmit={submit} aria-labelledby="retention-place">
      <h3 id="retention-place" className={CARD_SUBTITLE}>
        Place a hold
      </h3>
      <label className="field">
        <span>On</span>
        <select
          value={scope}
          onChange={(e) => {
            setScope(LegalHoldScope.parse(e.target.value));
            setTarget('');
          }}
        >
          {LegalHoldScope.options.map((s) => (
            <option key={s} value={s}>
              {scopeLabel(s)}
            </option>
          ))}
        </select>
      </label>
      {scope === 'user' && (
        <label className="field">
          <span>User</span>
          <select value={target} onChange={(e) => setTarget(e.target.value)} required>
            <option value="">Choose a member…</option>
            {members.map((m) => (
              <option key={m.userId} value={m.userId}>
                {m.name} ({m.email})
              </option>
            ))}
          </select>
        </label>
      )}
      {scope === 'session' && (
        <label className="field">
          <span>Session id</span>
          <input
            value={target}
            onChange={(e) => setTarget(e.target.value)}
            placeholder="00000000-0000-0000-0000-000000000000"
            spellCheck={false}
            required
          />
        </label>
      )}
      <label className="field">
        <span>Reason</span>
        <input value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} required />
      </label>
      <button
        type="submit"
        className="justify-self-start"
        disabled={!isValid || isPlacing}
        data-testid="legal-hold-place"
      >
        {isPlacing ? 'Placing…' : 'Place hold'}
      </button>
    </form>
  );
}
