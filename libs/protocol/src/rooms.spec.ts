import { parseRoom, type Room, type RoomKind, roomName, rooms } from './rooms';

const A = '0b0e5e43-5f4f-4f59-9d5c-3d7a9c1f2a01';
const B = '7c1d0a52-93b4-4a0e-8f7e-2c55b1f0d9e3';

/** One built name per kind, with what it must read back as. */
const EVERY_KIND: { [K in RoomKind]: [string, Extract<Room, { kind: K }>] } = {
  org: [rooms.org(A), { kind: 'org', orgId: A }],
  user: [rooms.user(A), { kind: 'user', userId: A }],
  runner: [rooms.runner(A), { kind: 'runner', runnerId: A }],
  session: [rooms.session(A), { kind: 'session', sessionId: A }],
  share: [rooms.share(A), { kind: 'share', shareId: A }],
  sharedWith: [rooms.sharedWith(A), { kind: 'sharedWith', sessionId: A }],
  member: [rooms.member(A, B), { kind: 'member', orgId: A, userId: B }],
  webSession: [rooms.webSession('ws_1'), { kind: 'webSession', webSessionId: 'ws_1' }],
  apiToken: [rooms.apiToken(B), { kind: 'apiToken', tokenId: B }],
  audit: [rooms.audit(A), { kind: 'audit', orgId: A }],
};

describe('rooms / parseRoom', () => {
  it.each(Object.entries(EVERY_KIND))(
    '%s: parseRoom reads back what rooms built, and roomName builds it again',
    (_k, [name, room]) => {
      expect(parseRoom(name)).toEqual(room);
      expect(roomName(room)).toBe(name);
    },
  );

  it('keeps the names on the wire as they were', () => {
    expect(Object.values(EVERY_KIND).map(([name]) => name.slice(0, name.indexOf(':')))).toEqual([
      'org',
      'user',
      'runner',
      'session',
      'share',
      'shared',
      'member',
      'web-session',
      'api-token',
      'audit',
    ]);
  });

  it('reads no room into names it did not build', () => {
    for (const name of [
      '',
      'Fq3xW2',
      'session:',
      'session',
      `session:${A}:x`,
      `member:${A}`,
      `nope:${A}`,
      `Session:${A}`,
    ]) {
      expect(parseRoom(name)).toBeNull();
    }
    // `web-session:` is not read as a session room.
    expect(parseRoom(rooms.webSession(A))?.kind).toBe('webSession');
  });
});
