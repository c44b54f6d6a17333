'use client';

import type { MemberView, SessionShares, ShareLink, ShareRole } from '@yoke/protocol';
import { Dialog } from 'radix-ui';
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { ConfirmDialog, type ConfirmRequest } from '@/components/confirm-dialog';
import { useToast } from '@/components/shell/toast';
import { DialogCloseButton, DialogPanel } from '@/components/ui/dialog';
import { describeError } from '@/lib/api';
import { formatExpiry, formatUses } from './share-format';
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
/** What each role may do, shown next to the role pickers. */
export const ROLE_DESCRIPTIONS: Record<ShareRole, string> = {
  viewer: 'Watches the conversation and the files live; cannot write anything.',
  commenter: 'Everything a viewer can, plus comments on items and on lines of files.',
  driver: 'Everything a commenter can, plus sends prompts, steers and cancels turns. Approving needs "May approve".',
};
const SUBHEAD = 'mt-3 mb-1.5 text-base font-bold';
const EXPIRIES: { label: string; seconds: number | undefined }[] = [
  { label: 'Never', seconds: undefined },
  { label: '1 hour', seconds: 3600 },
  { label: '1 day', seconds: 86_400 },
  { label: '7 days', seconds: 7 * 86_400 },
];

export function linkUrl(token: string): string {
  return `${window.location.origin}/join/?token=${encodeURIComponent(token)}`;
}

/**
 * The owner's share dialog: invite an org member or make a link (role, expiry, use limit); list and revoke. Loaded on
 * the first click of Share (ShareDialog), then opened and closed by it.
 */
export function SharePanel({
  sessionId,
  ownerId,
  isOpen,
  onOpenChange,
}: {
  sessionId: string;
  ownerId: string;
  isOpen: boolean;
  onOpenChange: (isOpen: boolean) => void;
}) {
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
  const [copied, setCopied] = useState<'copied' | 'failed' | null>(null);
  const toast = useToast();
  const closeConfirm = useCallback(() => setConfirming(null), []);

  const refresh = useCallback(async () => {
    try {
      setShares(await listShares(sessionId));
      setError(null);
    } catch (err) {
      setError(describeError(err));
    }
  }, [sessionId]);

  // Fresh lists each time it opens; the link made last is shown once, so closing the dialog forgets it.
  useEffect(() => {
    if (!isOpen) {
      setCreated(null);
      return;
    }
    setCopied(null);
    void refresh();
    listMembers()
      .then((m) => setMembers(m.filter((x) => x.userId !== ownerId)))
      .catch(() => setMembers([]));
  }, [isOpen, refresh, ownerId]);

  const copy = async (text: string) => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied('copied');
      toast({ kind: 'success', text: 'Share link copied.' });
    } catch {
      setCopied('failed');
      toast({ kind: 'error', text: 'The link could not be copied: select it and copy it yourself.' });
    }
  };

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

  const createdUrl = created?.token ? linkUrl(created.token) : null;

  return (
    <Dialog.Root open={isOpen} onOpenChange={onOpenChange}>
      <DialogPanel title="Share this session" headerAction={<DialogCloseButton />} data-testid="share-dialog">
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
        <dl className="my-1.5 grid gap-1 text-[0.85rem]" data-testid="share-roles">
          {ROLES.map((r) => (
            <div
              key={r}
              className={`grid rounded-sm px-2 py-1 min-[481px]:grid-cols-[6.5em_1fr] min-[481px]:gap-2 ${r === linkRole || r === inviteRole ? 'bg-surface-2' : ''}`}
            >
              <dt className="font-semibold">{r}</dt>
              <dd className="m-0 text-muted">{ROLE_DESCRIPTIONS[r]}</dd>
            </div>
          ))}
        </dl>
        {createdUrl && (
          <div className="my-1.5 grid gap-0.5">
            <label className="muted small" htmlFor="share-link-url">
              Copy this link now; it is shown once.
            </label>
            <div className="mt-1 flex gap-1.5">
              <input
                id="share-link-url"
                className="min-w-0 flex-auto font-mono"
                readOnly
                value={createdUrl}
                onFocus={(e) => e.target.select()}
                data-testid="link-url"
              />
              <button type="button" onClick={() => void copy(createdUrl)} data-testid="link-copy">
                {copied === 'copied' ? 'Copied' : 'Copy'}
              </button>
            </div>
            <span className="muted small" role="status" data-testid="link-copy-status">
              {copied === 'copied' ? 'Link copied to the clipboard.' : ''}
              {copied === 'failed' ? 'Could not copy: select the link and copy it yourself.' : ''}
            </span>
          </div>
        )}
        <h3 className={SUBHEAD}>People</h3>
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
        <h3 className={SUBHEAD}>Links</h3>
        <ul className="share-list" data-testid="share-links">
          {shares?.links.length === 0 && <li className="muted small">No links.</li>}
          {shares?.links.map((l) => (
            <li key={l.id} data-testid="share-link" data-link-id={l.id}>
              <span className="grow">
                <strong>{l.role}</strong>
                <span className="muted small" data-testid="link-uses">
                  {' · '}
                  {formatUses(l.uses, l.maxUses)}
                </span>
                <span className="muted small" data-testid="link-expiry-text">
                  {' · '}
                  {formatExpiry(l.expiresAt)}
                </span>
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
      </DialogPanel>
    </Dialog.Root>
  );
}
