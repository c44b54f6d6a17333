'use client';

import { useMe } from '@/hooks/use-me';

/** Team mode: who is signed in, with which role, in which org. Embedded mode has one local user: nothing to show. */
export function IdentityBadge() {
  const who = useMe();
  if (!who || who.me.mode !== 'team') return null;
  const { me, org } = who;
  return (
    <span
      className="max-w-[40vw] truncate text-sm text-muted"
      data-testid="identity"
      title={`${me.email} · ${me.role}`}
    >
      <span data-testid="identity-user">{me.name}</span>
      {org && (
        <>
          {' · '}
          <span data-testid="identity-org">{org.name}</span>
        </>
      )}
    </span>
  );
}
