/**
 * socket.io room names: built by `rooms` everywhere and read back by `parseRoom` only. A name is `<kind>:<ids>`;
 * ids never contain `:`.
 */
export const rooms = {
  org: (orgId: string): `org:${string}` => `org:${orgId}`,
  user: (userId: string): `user:${string}` => `user:${userId}`,
  runner: (runnerId: string): RunnerRoom => `runner:${runnerId}`,
  session: (sessionId: string): `session:${string}` => `session:${sessionId}`,
  /** Every socket whose access comes from one share (a grant or a link): revoking it disconnects them. */
  share: (shareId: string): `share:${string}` => `share:${shareId}`,
  /** Sockets of the members a session is shared with (their session lists follow it). */
  sharedWith: (sessionId: string): `shared:${string}` => `shared:${sessionId}`,
  /** One member's sockets in one org: a role change or removal closes them (they re-authenticate). */
  member: (orgId: string, userId: string): `member:${string}:${string}` => `member:${orgId}:${userId}`,
  /** The sockets opened with one browser session: signing out closes them. */
  webSession: (webSessionId: string): `web-session:${string}` => `web-session:${webSessionId}`,
  /** The sockets opened with one API token: revoking it closes them. */
  apiToken: (tokenId: string): `api-token:${string}` => `api-token:${tokenId}`,
  /** The sockets following an org's audit log live (owners, admins, auditors). */
  audit: (orgId: string): `audit:${string}` => `audit:${orgId}`,
} as const;

/** The room of one runner's sockets on /runner: the only rooms server -> runner commands go to. */
export type RunnerRoom = `runner:${string}`;

/** A room name read back: its kind and the ids it was built from. */
export type Room =
  | { kind: 'org'; orgId: string }
  | { kind: 'user'; userId: string }
  | { kind: 'runner'; runnerId: string }
  | { kind: 'session'; sessionId: string }
  | { kind: 'share'; shareId: string }
  | { kind: 'sharedWith'; sessionId: string }
  | { kind: 'member'; orgId: string; userId: string }
  | { kind: 'webSession'; webSessionId: string }
  | { kind: 'apiToken'; tokenId: string }
  | { kind: 'audit'; orgId: string };
export type RoomKind = Room['kind'];

const ID = '([^:]+)';
const PATTERNS: { [K in RoomKind]: { re: RegExp; read: (ids: string[]) => Extract<Room, { kind: K }> } } = {
  org: { re: new RegExp(`^org:${ID}$`), read: ([orgId]) => ({ kind: 'org', orgId }) },
  user: { re: new RegExp(`^user:${ID}$`), read: ([userId]) => ({ kind: 'user', userId }) },
  runner: { re: new RegExp(`^runner:${ID}$`), read: ([runnerId]) => ({ kind: 'runner', runnerId }) },
  session: { re: new RegExp(`^session:${ID}$`), read: ([sessionId]) => ({ kind: 'session', sessionId }) },
  share: { re: new RegExp(`^share:${ID}$`), read: ([shareId]) => ({ kind: 'share', shareId }) },
  sharedWith: { re: new RegExp(`^shared:${ID}$`), read: ([sessionId]) => ({ kind: 'sharedWith', sessionId }) },
  member: { re: new RegExp(`^member:${ID}:${ID}$`), read: ([orgId, userId]) => ({ kind: 'member', orgId, userId }) },
  webSession: {
    re: new RegExp(`^web-session:${ID}$`),
    read: ([webSessionId]) => ({ kind: 'webSession', webSessionId }),
  },
  apiToken: { re: new RegExp(`^api-token:${ID}$`), read: ([tokenId]) => ({ kind: 'apiToken', tokenId }) },
  audit: { re: new RegExp(`^audit:${ID}$`), read: ([orgId]) => ({ kind: 'audit', orgId }) },
};
const KINDS = Object.keys(PATTERNS) as RoomKind[];

/** The room a name was built for by `rooms`; null for any other name (a socket's own id room, a malformed one). */
export function parseRoom(name: string): Room | null {
  for (const kind of KINDS) {
    const m = PATTERNS[kind].re.exec(name);
    if (m) return PATTERNS[kind].read(m.slice(1));
  }
  return null;
}

/** The name of a parsed room: `roomName(parseRoom(name)!) === name` for every name `rooms` builds. */
export function roomName(room: Room): string {
  switch (room.kind) {
    case 'org':
      return rooms.org(room.orgId);
    case 'user':
      return rooms.user(room.userId);
    case 'runner':
      return rooms.runner(room.runnerId);
    case 'session':
      return rooms.session(room.sessionId);
    case 'share':
      return rooms.share(room.shareId);
    case 'sharedWith':
      return rooms.sharedWith(room.sessionId);
    case 'member':
      return rooms.member(room.orgId, room.userId);
    case 'webSession':
      return rooms.webSession(room.webSessionId);
    case 'apiToken':
      return rooms.apiToken(room.tokenId);
    case 'audit':
      return rooms.audit(room.orgId);
  }
}
