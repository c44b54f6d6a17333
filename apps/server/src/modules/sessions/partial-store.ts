import { Injectable } from '@nestjs/common';
import type { DeltaEvent, ItemDraft, PartialItem } from '@yoke/protocol';

/**
 * The in-progress streamed items of running turns, so a viewer joining mid-stream sees the text so far.
 * Held by the replica the runner is connected to; the completed item replaces it.
 */
@Injectable()
export class PartialStore {
  private readonly bySession = new Map<string, Map<string, PartialItem>>();

  apply({ sessionId, afterSeq, delta }: DeltaEvent): void {
    let streams = this.bySession.get(sessionId);
    if (!streams) this.bySession.set(sessionId, (streams = new Map()));
    const existing = streams.get(delta.streamId);
    if (existing) existing.text += delta.text;
    else
      streams.set(delta.streamId, {
        type: delta.type,
        turnId: delta.turnId,
        streamId: delta.streamId,
        ...(delta.type === 'command_output_delta' ? { callId: delta.callId } : {}),
        afterSeq,
        text: delta.text,
      });
  }

  /** Drops what a persisted item completes: its stream, its command's output, or everything at a turn's end. */
  settle(sessionId: string, items: ItemDraft[]): void {
    const streams = this.bySession.get(sessionId);
    if (!streams) return;
    for (const item of items) {
      if (item.type === 'turn_completed' || item.type === 'turn_failed') {
        this.bySession.delete(sessionId);
        return;
      }
      if ((item.type === 'agent_message' || item.type === 'reasoning') && item.streamId) streams.delete(item.streamId);
      if (item.type === 'command') {
        for (const [id, p] of streams) if (p.callId === item.callId) streams.delete(id);
      }
    }
  }

  list(sessionId: string): PartialItem[] {
    return [...(this.bySession.get(sessionId)?.values() ?? [])].map((p) => ({ ...p }));
  }
}
