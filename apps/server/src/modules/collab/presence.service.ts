import { Injectable, Logger } from '@nestjs/common';
import { AppError, type PresenceViewer, rooms } from '@yoke/protocol';
import type { Socket } from 'socket.io';
import { RealtimeHub } from '../../core/realtime/realtime-hub';
import { RealtimePublisher } from '../../core/realtime/realtime.publisher';
import { SessionAccessService } from '../access/session-access.service';
import type { Principal } from '../../core/auth/principal';

/** What a socket carries about the sessions it watches (read across replicas by `fetchSockets`). */
export type PresenceData = Record<string, PresenceViewer>;
type WebSocket = Socket & { data: { principal?: Principal; presence?: PresenceData } };

const PUBLISH_DELAY_MS = 100;

/**
 * Who is watching each session: the sockets in its room (on every replica), one entry per person. Recomputed and
 * published when someone joins or leaves (debounced per session).
 */
@Injectable()
export class PresenceService {
  private readonly logger = new Logger(PresenceService.name);
  private readonly pending = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly access: SessionAccessService,
    private readonly publisher: RealtimePublisher,
    private readonly hub: RealtimeHub,
  ) {
    hub.roomEvents.on('join', ({ audience, room, socket }) => {
      if (audience === 'web' && room.kind === 'session' && socket)
        void this.joined(socket as WebSocket, room.sessionId);
    });
    hub.roomEvents.on('leave', ({ audience, room, socket }) => {
      if (audience !== 'web' || room.kind !== 'session') return;
      const presence = (socket as WebSocket | undefined)?.data.presence;
      if (presence) delete presence[room.sessionId];
      this.schedule(room.sessionId);
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
    try {
      const sockets = await this.hub.fetchSockets('web', rooms.session(sessionId));
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
