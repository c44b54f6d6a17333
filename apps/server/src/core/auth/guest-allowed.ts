import { SetMetadata } from '@nestjs/common';

/**
 * Marks a route a share-link guest may call (with its session-scoped credential). Everything else refuses guests;
 * the session itself is checked by `SessionAccessService` (a guest's scope names one session).
 */
export const GUEST_ALLOWED = 'yoke:guestAllowed';
export const GuestAllowed = () => SetMetadata(GUEST_ALLOWED, true);
