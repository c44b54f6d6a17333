import { Injectable, Logger } from '@nestjs/common';
import { AppError, type PresenceViewer, rooms } from '@yoke/protocol';
import type { Namespace, Socket } from 'socket.io';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { SessionAccessService } from '../access/session-access.service';
import type { Principal } from '../auth/principal';

/** What a socket carries about the sessions it watches (read across replicas by `fetchSockets`). */
export type PresenceData = Record<string, PresenceViewer>;
type WebSocket = Socket & { data: { principal?: Principal; presence?: PresenceData } };

const SESSION_ROOM = /^session:([0-9a-f-]{36})$/;
const PUBLISH_DELAY_MS = 100;

/**
 * Who is watching each session: the sockets in its room (on every replica), one entry per person. Recomputed and
 * published when someone joins or leaves (debounced per session).
 */
@Injectable()
export class PresenceService {
  private readonly logger = new Logger(PresenceService.name);
  private nsp: Namespace | null = null;
  private readonly pending = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly access: SessionAccessService,
    private readonly publisher: RealtimePublisher,
  ) {}

  attach(nsp: Namespace): void {
    this.nsp = nsp;
    nsp.adapter.on('join-room', (room: string, id: string) => {
      const sessionId = SESSION_ROOM.exec(room)?.[1];
      const socket = nsp.sockets.get(id) as WebSocket | undefined;
      if (sessionId && socket) void this.joined(socket, sessionId);
    });
    nsp.adapter.on('leave-room', (room: string, id: string) => {
      const sessionId = SESSION_ROOM.exec(room)?.[1];
      if (!sessionId) return;
      const socket = nsp.sockets.get(id) as WebSocket | undefined;
      if (socket?.data.presence) delete socket.data.presence[sessionId];
      this.schedule(sessionId);
    });
  }

  /** A driver is typing: everyone in the session hears it (clients ignore their own). */
  async typing(socket: WebSocket, sessionId: string): Promise<void> {
    const p = socket.data.principal;
    if (!p || !socket.rooms.has(rooms.session(sessionId))) {
      throw new AppError('request.invalid', 'join the session first');
    }
    const access = await this.access.require(p, sessionId, 'drive');
    this.publisher.toSession(sessionId, 'presence.typing', { sessionId, actor: access.actor });
  }

  private async joined(socket: WebSocket, sessionId: string): Promise<void> {
    const p = socket.data.principal;
    if (!p) return;
    try {
      const access = await this.access.resolve(p, sessionId);
      const shareRooms = [access.grantId, access.linkId].flatMap((id) => (id ? [rooms.share(id)] : []));
      if (shareRooms.length) await socket.join(shareRooms);
      socket.data.presence = {
        ...socket.data.presence,
        [sessionId]: { actor: access.actor, role: access.role, isGuest: access.isGuest },
      };
    } catch (err) {
      this.logger.warn({ err, sessionId }, 'presence: could not resolve a viewer');
    }
    this.schedule(sessionId);
  }

  private schedule(sessionId: string): void {
    if (this.pending.has(sessionId)) return;
    this.pending.set(
      sessionId,
      setTimeout(() => {
        this.pending.delete(sessionId);
        void this.publish(sessionId);
      }, PUBLISH_DELAY_MS),
    );
  }

  private async publish(sessionId: string): Promise<void> {
    if (!this.nsp) return;
    try {
      const sockets = await this.nsp.in(rooms.session(sessionId)).fetchSockets();
      const viewers = new Map<string, PresenceViewer>();
      for (const s of sockets) {
        const entry = (s.data as { presence?: PresenceData }).presence?.[sessionId];
        if (entry && !viewers.has(entry.actor.id)) viewers.set(entry.actor.id, entry);
      }
      this.publisher.toSession(sessionId, 'presence.updated', { sessionId, viewers: [...viewers.values()] });
    } catch (err) {
      this.logger.warn({ err, sessionId }, 'presence: could not list viewers');
    }
  }
}
