'use client';

import { OrgRole, type MemberView, type RunnerView } from '@yoke/protocol';
import { useRouter, useSearchParams } from 'next/navigation';
import { useCallback, useEffect, useState } from 'react';
import { ConfirmDialog, type ConfirmRequest } from '@/components/confirm-dialog';
import { PoliciesEditor } from '@/components/admin/policies-editor';
import { RetentionPanel } from '@/components/admin/retention-panel';
import { BudgetsPanel } from '@/components/budgets/budgets-panel';
import { describeError, request } from '@/lib/api';
import { createEnrolment, listMembers, listRunners, revokeRunner } from '@/lib/collab-api';
import { TABLE } from '@/components/ui/panel-styles';

const TABS = ['members', 'runners', 'policies', 'retention', 'budgets'] as const;
type Tab = (typeof TABS)[number];

/** Org administration: members and their roles, runners (enrol, status, revoke), org policies, retention, budgets. */
export function AdminPage() {
  const params = useSearchParams();
  const router = useRouter();
  const raw = params.get('tab');
  const tab: Tab = TABS.includes(raw as Tab) ? (raw as Tab) : 'members';
  return (
    <div className="page" data-testid="admin-page">
      <div className="page-head">
        <h1>Admin</h1>
      </div>
      <div className="mb-3 flex flex-wrap gap-1.5" role="tablist" aria-label="Admin sections">
        {TABS.map((t) => (
          <button
            key={t}
            type="button"
            role="tab"
            aria-selected={t === tab}
            className={t === tab ? undefined : 'secondary'}
            onClick={() => router.replace(`/admin/?tab=${t}`)}
            data-testid={`admin-tab-${t}`}
          >
            {t[0].toUpperCase() + t.slice(1)}
          </button>
        ))}
      </div>
      <div role="tabpanel">
        {tab === 'members' && <Members />}
        {tab === 'runners' && <Runners />}
        {tab === 'policies' && <PoliciesEditor />}
        {tab === 'retention' && <RetentionPanel />}
        {tab === 'budgets' && <BudgetsPanel />}
      </div>
    </div>
  );
}

function useList<T>(load: () => Promise<T[]>) {
  const [rows, setRows] = useState<T[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const refresh = useCallback(async () => {
    try {
      setRows(await load());
      setError(null);
    } catch (err) {
      setError(describeError(err));
    }
  }, [load]);
  useEffect(() => {
    void refresh();
  }, [refresh]);
  return { rows, error, setError, refresh };
}

function Members() {
  const { rows, error, setError, refresh } = useList<MemberView>(listMembers);
  const [confirming, setConfirming] = useState<ConfirmRequest | null>(null);
  const closeConfirm = useCallback(() => setConfirming(null), []);
  const act = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
      await refresh();
    } catch (err) {
      setError(describeError(err));
    }
  };
  return (
    <section aria-label="Members">
      {error && (
        <p className="banner banner-error" role="alert">
          {error}
        </p>
      )}
      <table className={TABLE} data-testid="members-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Email</th>
            <th>Role</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows?.map((m) => (
            <tr key={m.userId} data-testid="member-row">
              <td>{m.name}</td>
              <td>{m.email}</td>
              <td>
                <label>
                  <span className="sr-only">Role of {m.name}</span>
                  <select
                    value={m.role}
                    onChange={(e) =>
                      void act(() =>
                        request(`/org/members/${m.userId}`, { method: 'PATCH', body: { role: e.target.value } }),
                      )
                    }
                  >
                    {OrgRole.options.map((r) => (
                      <option key={r}>{r}</option>
                    ))}
                  </select>
                </label>
              </td>
              <td>
                <button
                  type="button"
                  className="danger"
                  onClick={() =>
                    setConfirming({
                      title: `Remove ${m.name}?`,
                      body: `${m.name} (${m.email}) leaves this org: their access ends now and their open pages are disconnected. They need a new invitation to come back.`,
                      action: 'Remove member',
                      onConfirm: () => act(() => request(`/org/members/${m.userId}`, { method: 'DELETE' })),
                    })
                  }
                  data-testid="member-remove"
                >
                  Remove
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ConfirmDialog request={confirming} onClose={closeConfirm} />
    </section>
  );
}

function Runners() {
  const { rows, error, setError, refresh } = useList<RunnerView>(listRunners);
  const [confirming, setConfirming] = useState<ConfirmRequest | null>(null);
  const closeConfirm = useCallback(() => setConfirming(null), []);
  const [name, setName] = useState('');
  const [enrolToken, setEnrolToken] = useState<string | null>(null);
  return (
    <section aria-label="Runners">
      {error && (
        <p className="banner banner-error" role="alert">
          {error}
        </p>
      )}
      <form
        className="form-row"
        onSubmit={(e) => {
          e.preventDefault();
          createEnrolment(name.trim() || 'runner')
            .then((r) => setEnrolToken(r.token))
            .catch((err: unknown) => setError(describeError(err)));
        }}
      >
        <label className="field">
          <span>New runner name</span>
          <input value={name} onChange={(e) => setName(e.target.value)} maxLength={100} />
        </label>
        <button type="submit">Create enrolment token</button>
      </form>
      {enrolToken && (
        <p className="created-link">
          <span className="muted small">
            One-time token (shown once): <code>yoke-runner enrol --server {window.location.origin} --token …</code>
          </span>
          <input readOnly value={enrolToken} onFocus={(e) => e.target.select()} data-testid="enrol-token" />
        </p>
      )}
      <table className={TABLE} data-testid="runners-table">
        <thead>
          <tr>
            <th>Name</th>
            <th>Status</th>
            <th>Last seen</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {rows?.map((r) => (
            <tr key={r.id} data-testid="runner-row">
              <td>{r.name}</td>
              <td>{r.online ? 'online' : 'offline'}</td>
              <td>{r.lastSeenAt ? new Date(r.lastSeenAt).toLocaleString() : '—'}</td>
              <td>
                <button
                  type="button"
                  className="danger"
                  onClick={() =>
                    setConfirming({
                      title: `Revoke runner ${r.name}?`,
                      body: `Its sessions stop; it cannot reconnect with its credential. Prompts sent to its sessions will not be delivered. To use this machine again, enrol it anew.`,
                      action: 'Revoke runner',
                      onConfirm: () => revokeRunner(r.id).then(refresh, (err: unknown) => setError(describeError(err))),
                    })
                  }
                  data-testid="runner-revoke"
                >
                  Revoke
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ConfirmDialog request={confirming} onClose={closeConfirm} />
    </section>
  );
}
