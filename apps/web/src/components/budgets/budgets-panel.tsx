'use client';

import type { BudgetScope, BudgetView, CreateBudgetBody, MemberView } from '@yoke/protocol';
import { useCallback, useEffect, useId, useState, type FormEvent } from 'react';
import { createBudget, deleteBudget, listBudgets, updateBudget } from '@/components/budgets/budgets-api';
import { useMyRole } from '@/hooks/use-my-role';
import { describeError } from '@/lib/api';
import { formatMicros, parseAlerts, parseDollars } from '@/lib/budgets';
import { listMembers } from '@/lib/collab-api';
import { CARD, CARD_FORM, CARD_TITLE, FIELD_ERROR, PANEL } from '@/components/ui/panel-styles';

const SCOPE_LABEL: Record<BudgetScope, string> = { org: 'Whole org', user: 'User', agent: 'Agent' };

/** The spend bar's fill: green under the thresholds, amber once one is crossed, red at the cap. */
const FILL: Record<'ok' | 'warn' | 'over', string> = { ok: 'bg-ok', warn: 'bg-warn', over: 'bg-danger' };

/** A budget form: its field labels on their own line above the controls. */
const BUDGET_FORM = `${CARD_FORM} [&_.field>span:first-child]:mb-0.5 [&_.field>span:first-child]:block`;

/**
 * Monthly budgets: a cap on what the org, one user or one agent spends in a calendar month (UTC), with this month's
 * spend so far and the thresholds that alerted. At the cap, sessions pause until someone confirms going on. Owners
 * and admins create, change and delete budgets; everyone else reads those that concern them.
 */
export function BudgetsPanel() {
  const me = useMyRole();
  const canManage = me !== null && (me.role === 'owner' || me.role === 'admin');
  const [budgets, setBudgets] = useState<BudgetView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const fail = useCallback((err: unknown) => setError(describeError(err)), []);
  const refresh = useCallback(() => {
    listBudgets().then((b) => {
      setBudgets(b);
      setError(null);
    }, fail);
  }, [fail]);
  useEffect(() => refresh(), [refresh]);
  return (
    <section aria-label="Budgets" className={PANEL} data-testid="budgets-panel">
      {error && (
        <p className="banner banner-error" role="alert">
          {error}
        </p>
      )}
      <div className={CARD}>
        <h2 className={CARD_TITLE}>Monthly budgets</h2>
        <p className="muted small">
          Spend is what the egress proxy metered from the providers&apos; own responses, counted per calendar month
          (UTC). Each threshold is an audit event once a month; at the cap, every session spending on the budget pauses
          until someone confirms going on.
        </p>
        {budgets && budgets.length === 0 && <p className="muted">No budgets.</p>}
        {budgets && budgets.length > 0 && (
          <ul className="m-0 grid list-none gap-2.25 p-0" data-testid="budgets-list">
            {budgets.map((b) => (
              <BudgetRow key={b.id} budget={b} canManage={canManage} onChange={refresh} onError={fail} />
            ))}
          </ul>
        )}
      </div>
      {canManage && <NewBudget onCreated={refresh} onError={fail} />}
    </section>
  );
}

function targetText(b: BudgetView): string {
  if (b.scope === 'org') return 'Whole org';
  return `${SCOPE_LABEL[b.scope]}: ${b.label ?? b.target ?? ''}`;
}

function BudgetRow({
  budget: b,
  canManage,
  onChange,
  onError,
}: {
  budget: BudgetView;
  canManage: boolean;
  onChange: () => void;
  onError: (err: unknown) => void;
}) {
  const [isEditing, setIsEditing] = useState(false);
  const [isConfirming, setIsConfirming] = useState(false);
  const [isBusy, setIsBusy] = useState(false);
  const level = b.percent >= 100 ? 'over' : b.crossed.length > 0 ? 'warn' : 'ok';
  const remove = () => {
    setIsBusy(true);
    deleteBudget(b.id)
      .then(onChange, onError)
      .finally(() => setIsBusy(false));
  };
  return (
    <li className="grid min-w-0 gap-1.5 rounded-sm border border-border p-2.25" data-testid="budget">
      <div className="flex flex-wrap justify-between gap-x-1.5 gap-y-1">
        <strong className="wrap-anywhere">{targetText(b)}</strong>
        <span className="small">
          {formatMicros(b.spentMicros)} of {formatMicros(b.capMicros)} · <strong>{b.percent}%</strong>
        </span>
      </div>
      <div
        className="relative h-2.5 overflow-hidden rounded-full border border-border bg-code-bg"
        role="progressbar"
        aria-label={`${targetText(b)}: spent this month`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.min(b.percent, 100)}
        aria-valuetext={`${b.percent}% of the cap`}
      >
        <span className={`block h-full ${FILL[level]}`} style={{ width: `${Math.min(b.percent, 100)}%` }} />
        {b.alertAt.map((t) => (
          <i
            key={t}
            className="absolute top-0 bottom-0 -ml-px w-px bg-muted opacity-60"
            style={{ left: `${t}%` }}
            aria-hidden="true"
          />
        ))}
      </div>
      <div className="muted small">
        {b.month} · alerts at {b.alertAt.length ? b.alertAt.map((t) => `${t}%`).join(', ') : 'none'}
        {b.crossed.length > 0 && ` · crossed ${b.crossed.map((t) => `${t}%`).join(', ')}`}
      </div>
      {canManage && isEditing && (
        <EditBudget
          budget={b}
          onDone={() => {
            setIsEditing(false);
            onChange();
          }}
          onCancel={() => setIsEditing(false)}
          onError={onError}
        />
      )}
      {canManage && !isEditing && (
        <div className="form-row">
          {isConfirming ? (
            <>
              <span className="small">Delete this budget? Its sessions are no longer paused at the cap.</span>
              <button
                type="button"
                className="danger"
                onClick={remove}
                disabled={isBusy}
                data-testid="budget-delete-confirm"
              >
                {isBusy ? 'Deleting…' : 'Delete'}
              </button>
              <button type="button" className="secondary" onClick={() => setIsConfirming(false)}>
                Keep
              </button>
            </>
          ) : (
            <>
              <button type="button" className="secondary" onClick={() => setIsEditing(true)} data-testid="budget-edit">
                Edit
              </button>
              <button
                type="button"
                className="secondary"
                onClick={() => setIsConfirming(true)}
                data-testid="budget-delete"
              >
                Delete…
              </button>
            </>
          )}
        </div>
      )}
    </li>
  );
}

function AmountFields({
  cap,
  alerts,
  onCap,
  onAlerts,
}: {
  cap: string;
  alerts: string;
  onCap: (v: string) => void;
  onAlerts: (v: string) => void;
}) {
  const id = useId();
  const parsedCap = parseDollars(cap);
  const parsedAlerts = parseAlerts(alerts);
  return (
    <>
      <label className="field" htmlFor={`${id}-cap`}>
        <span>Cap per month (USD)</span>
        <input
          id={`${id}-cap`}
          inputMode="decimal"
          value={cap}
          aria-invalid={!parsedCap.ok}
          aria-describedby={`${id}-cap-help`}
          onChange={(e) => onCap(e.target.value)}
          data-testid="budget-cap"
        />
        {!parsedCap.ok && cap !== '' && (
          <span id={`${id}-cap-help`} className={`${FIELD_ERROR} small`}>
            {parsedCap.error}
          </span>
        )}
      </label>
      <label className="field" htmlFor={`${id}-alerts`}>
        <span>Alert at (% of the cap)</span>
        <input
          id={`${id}-alerts`}
          value={alerts}
          aria-invalid={!parsedAlerts.ok}
          aria-describedby={`${id}-alerts-help`}
          onChange={(e) => onAlerts(e.target.value)}
          data-testid="budget-alerts"
        />
        {!parsedAlerts.ok && (
          <span id={`${id}-alerts-help`} className={`${FIELD_ERROR} small`}>
            {parsedAlerts.error}
          </span>
        )}
      </label>
    </>
  );
}

function EditBudget({
  budget,
  onDone,
  onCancel,
  onError,
}: {
  budget: BudgetView;
  onDone: () => void;
  onCancel: () => void;
  onError: (err: unknown) => void;
}) {
  const [cap, setCap] = useState((budget.capMicros / 1_000_000).toString());
  const [alerts, setAlerts] = useState(budget.alertAt.join(', '));
  const [isSaving, setIsSaving] = useState(false);
  const parsedCap = parseDollars(cap);
  const parsedAlerts = parseAlerts(alerts);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!parsedCap.ok || !parsedAlerts.ok) return;
    setIsSaving(true);
    updateBudget(budget.id, { capMicros: parsedCap.micros, alertAt: parsedAlerts.alertAt })
      .then(onDone, onError)
      .finally(() => setIsSaving(false));
  };
  return (
    <form className={BUDGET_FORM} onSubmit={submit} aria-label="Edit budget">
      <AmountFields cap={cap} alerts={alerts} onCap={setCap} onAlerts={setAlerts} />
      <div className="form-row">
        <button type="submit" disabled={isSaving || !parsedCap.ok || !parsedAlerts.ok} data-testid="budget-save">
          {isSaving ? 'Saving…' : 'Save'}
        </button>
        <button type="button" className="secondary" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function NewBudget({ onCreated, onError }: { onCreated: () => void; onError: (err: unknown) => void }) {
  const id = useId();
  const [scope, setScope] = useState<BudgetScope>('org');
  const [target, setTarget] = useState('');
  const [cap, setCap] = useState('');
  const [alerts, setAlerts] = useState('50, 80, 100');
  const [members, setMembers] = useState<MemberView[]>([]);
  const [isSaving, setIsSaving] = useState(false);
  useEffect(() => {
    if (scope === 'user' && members.length === 0) listMembers().then(setMembers, onError);
  }, [scope, members.length, onError]);
  const parsedCap = parseDollars(cap);
  const parsedAlerts = parseAlerts(alerts);
  const hasTarget = scope === 'org' || target.trim() !== '';
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!parsedCap.ok || !parsedAlerts.ok || !hasTarget) return;
    const common = { capMicros: parsedCap.micros, alertAt: parsedAlerts.alertAt };
    const body: CreateBudgetBody = scope === 'org' ? { scope, ...common } : { scope, target: target.trim(), ...common };
    setIsSaving(true);
    createBudget(body)
      .then(() => {
        setCap('');
        setTarget('');
        onCreated();
      }, onError)
      .finally(() => setIsSaving(false));
  };
  return (
    <form className={`${CARD} ${BUDGET_FORM}`} onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} className={CARD_TITLE}>
        New budget
      </h2>
      <label className="field" htmlFor={`${id}-scope`}>
        <span>Applies to</span>
        <select
          id={`${id}-scope`}
          value={scope}
          onChange={(e) => {
            setScope(e.target.value as BudgetScope);
            setTarget('');
          }}
          data-testid="budget-scope"
        >
          <option value="org">The whole org</option>
          <option value="user">One user</option>
          <option value="agent">One agent</option>
        </select>
      </label>
      {scope === 'user' && (
        <label className="field" htmlFor={`${id}-user`}>
          <span>User</span>
          <select
            id={`${id}-user`}
            value={target}
            onChange={(e) => setTarget(e.target.value)}
            data-testid="budget-user"
          >
            <option value="">Choose…</option>
            {members.map((m) => (
              <option key={m.userId} value={m.userId}>
                {m.email}
              </option>
            ))}
          </select>
        </label>
      )}
      {scope === 'agent' && (
        <label className="field" htmlFor={`${id}-agent`}>
          <span>Agent name</span>
          <input
            id={`${id}-agent`}
            value={target}
            maxLength={200}
            onChange={(e) => setTarget(e.target.value)}
            data-testid="budget-agent"
          />
        </label>
      )}
      <AmountFields cap={cap} alerts={alerts} onCap={setCap} onAlerts={setAlerts} />
      <div className="form-row">
        <button
          type="submit"
          disabled={isSaving || !parsedCap.ok || !parsedAlerts.ok || !hasTarget}
          data-testid="budget-create"
        >
          {isSaving ? 'Creating…' : 'Create budget'}
        </button>
      </div>
    </form>
  );
}
