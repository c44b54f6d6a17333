'use client';

import type { MemberView, SessionShares, ShareLink, ShareRole } from '@yoke/protocol';
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { ConfirmDialog, type ConfirmRequest } from '@/components/confirm-dialog';
import { describeError } from '@/lib/api';
import {
  createLink,
  inviteMember,
  listMembers,
  listShares,
  revokeGrant,
  revokeLink,
  updateGrant,
} from '@/lib/collab-api';

const ROLES: ShareRole[] = ['viewer', 'commenter', 'driver'];
const EXPIRIES: { label: string; seconds: number | undefined }[] = [
  { label: 'Never', seconds: undefined },
  { label: '1 hour', seconds: 3600 },
  { label: '1 day', seconds: 86_400 },
  { label: '7 days', seconds: 7 * 86_400 },
];

export function linkUrl(token: string): string {
  return `${window.location.origin}/join/?token=${encodeURIComponent(token)}`;
}

/** The owner's share dialog: invite an org member or make a link (role, expiry, use limit); list and revoke. */
export function ShareDialog({ sessionId, ownerId }: { sessionId: string; ownerId: string }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [shares, setShares] = useState<SessionShares | null>(null);
  const [members, setMembers] = useState<MemberView[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<ShareLink | null>(null);
  const [inviteUser, setInviteUser] = useState('');
  const [inviteRole, setInviteRole] = useState<ShareRole>('viewer');
  const [inviteApprove, setInviteApprove] = useState(false);
  const [linkRole, setLinkRole] = useState<ShareRole>('viewer');
  const [expiry, setExpiry] = useState(0);
  const [maxUses, setMaxUses] = useState('');
  const [confirming, setConfirming] = useState<ConfirmRequest | null>(null);
  const closeConfirm = useCallback(() => setConfirming(null), []);

  const refresh = useCallback(async () => {
    try {
      setShares(await listShares(sessionId));
      setError(null);
    } catch (err) {
      setError(describeError(err));
    }
  }, [sessionId]);

  const open = () => {
    ref.current?.showModal();
    void refresh();
    listMembers()
      .then((m) => setMembers(m.filter((x) => x.userId !== ownerId)))
      .catch(() => setMembers([]));
  };

  useEffect(() => {
    const d = ref.current;
    const onClose = () => setCreated(null);
    d?.addEventListener('close', onClose);
    return () => d?.removeEventListener('close', onClose);
  }, []);

  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
      await refresh();
    } catch (err) {
      setError(describeError(err));
    }
  };

  const onInvite = (e: FormEvent) => {
    e.preventDefault();
    if (!inviteUser) return;
    void act(() => inviteMember(sessionId, inviteUser, inviteRole, inviteApprove));
  };

  const onLink = (e: FormEvent) => {
    e.preventDefault();
    const uses = maxUses.trim() ? Number(maxUses) : undefined;
    if (uses !== undefined && (!Number.isInteger(uses) || uses < 1)) {
      setError('The use limit must be a whole number of at least 1.');
      return;
    }
    void act(async () => {
      setCreated(
        await createLink(sessionId, { role: linkRole, expiresInSeconds: EXPIRIES[expiry].seconds, maxUses: uses }),
      );
    });
  };

  return (
    <>
      <button type="button" className="secondary" onClick={open} data-testid="share-button">
        Share
      </button>
      <dialog ref={ref} className="dialog" aria-labelledby="share-title" data-testid="share-dialog">
        <div className="dialog-head">
          <h2 id="share-title">Share this session</h2>
          <button type="button" className="secondary" onClick={() => ref.current?.close()} aria-label="Close">
            ✕
          </button>
        </div>
        {error && (
          <p className="banner banner-error" role="alert" data-testid="share-error">
            {error}
          </p>
        )}
        <form className="form-row" onSubmit={onInvite}>
          <label className="field grow">
            <span>Invite a member</span>
            <select value={inviteUser} onChange={(e) => setInviteUser(e.target.value)} data-testid="invite-user">
              <option value="">Choose…</option>
              {members.map((m) => (
                <option key={m.userId} value={m.userId}>
                  {m.name} ({m.email})
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Role</span>
            <select
              value={inviteRole}
              onChange={(e) => setInviteRole(e.target.value as ShareRole)}
              data-testid="invite-role"
            >
              {ROLES.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          </label>
          <label className="check">
            <input type="checkbox" checked={inviteApprove} onChange={(e) => setInviteApprove(e.target.checked)} />
            <span>May approve</span>
          </label>
          <button type="submit" disabled={!inviteUser} data-testid="invite-submit">
            Invite
          </button>
        </form>
        <form className="form-row" onSubmit={onLink}>
          <label className="field">
            <span>Link role</span>
            <select value={linkRole} onChange={(e) => setLinkRole(e.target.value as ShareRole)} data-testid="link-role">
              {ROLES.map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Expires</span>
            <select value={expiry} onChange={(e) => setExpiry(Number(e.target.value))} data-testid="link-expiry">
              {EXPIRIES.map((x, i) => (
                <option key={x.label} value={i}>
                  {x.label}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Use limit</span>
            <input
              inputMode="numeric"
              value={maxUses}
              onChange={(e) => setMaxUses(e.target.value)}
              placeholder="none"
              size={6}
              data-testid="link-max-uses"
            />
          </label>
          <button type="submit" data-testid="link-create">
            Create link
          </button>
        </form>
        {created?.token && (
          <p className="created-link">
            <span className="muted small">Copy this link now; it is shown once.</span>
            <input readOnly value={linkUrl(created.token)} onFocus={(e) => e.target.select()} data-testid="link-url" />
          </p>
        )}
        <h3>People</h3>
        <ul className="share-list" data-testid="share-grants">
          {shares?.grants.length === 0 && <li className="muted small">Nobody yet.</li>}
          {shares?.grants.map((g) => (
            <li key={g.id} data-testid="share-grant">
              <span className="grow">
                {g.user ? g.user.name : `${g.guestName ?? 'Guest'} (guest)`}
                {g.linkId && <span className="muted small"> via link</span>}
              </span>
              <label>
                <span className="sr-only">Role of {g.user?.name ?? g.guestName ?? 'guest'}</span>
                <select
                  value={g.role}
                  onChange={(e) => void act(() => updateGrant(sessionId, g.id, { role: e.target.value as ShareRole }))}
                  data-testid="grant-role"
                >
                  {ROLES.map((r) => (
                    <option key={r}>{r}</option>
                  ))}
                </select>
              </label>
              {g.user && (
                <label className="check small" title="Let this person answer the session's approvals">
                  <input
                    type="checkbox"
                    checked={g.canApprove}
                    onChange={(e) => void act(() => updateGrant(sessionId, g.id, { canApprove: e.target.checked }))}
                    data-testid="grant-can-approve"
                  />
                  <span>May approve</span>
                </label>
              )}
              <button
                type="button"
                className="danger"
                onClick={() =>
                  setConfirming({
                    title: 'Revoke access?',
                    body: `${g.user ? g.user.name : (g.guestName ?? 'This guest')} loses access to this session now.`,
                    action: 'Revoke access',
                    onConfirm: () => act(() => revokeGrant(sessionId, g.id)),
                  })
                }
                data-testid="grant-revoke"
              >
                Revoke
              </button>
            </li>
          ))}
        </ul>
        <h3>Links</h3>
        <ul className="share-list" data-testid="share-links">
          {shares?.links.length === 0 && <li className="muted small">No links.</li>}
          {shares?.links.map((l) => (
            <li key={l.id} data-testid="share-link" data-link-id={l.id}>
              <span className="grow">
                <strong>{l.role}</strong> · {l.uses}
                {l.maxUses !== null ? `/${l.maxUses}` : ''} uses
                {l.expiresAt ? ` · expires ${new Date(l.expiresAt).toLocaleString()}` : ''}
              </span>
              <button
                type="button"
                className="danger"
                onClick={() =>
                  setConfirming({
                    title: 'Revoke this link?',
                    body: `The ${l.role} link stops working: nobody can join this session with it any more.`,
                    action: 'Revoke link',
                    onConfirm: () => act(() => revokeLink(sessionId, l.id)),
                  })
                }
                data-testid="link-revoke"
              >
                Revoke
              </button>
            </li>
          ))}
        </ul>
        <ConfirmDialog request={confirming} onClose={closeConfirm} />
      </dialog>
    </>
  );
}
