import { type Delta, type ItemBody, MAX_TEXT_CHARS } from '@yoke/protocol';

/**
 * The agent text a running turn has streamed that no `agent_message` has carried yet. Deltas are never stored, so
 * when the turn fails mid-message the text a viewer already read would vanish with its stream; the runner records
 * it instead, as partial agent messages, just before the `turn_failed`. This works the same for every harness: it
 * relies only on the contract that a finished message carries the `streamId` of the deltas that streamed it.
 */
export class PartialAnswers {
  /** Open agent message streams of the turn, by `streamId`, in the order they started. */
  private readonly open = new Map<string, string>();
  private turnId: string | null = null;

  /** A turn starts with nothing open; deltas of any other turn (a late one of the last) are not its text. */
  begin(turnId: string): void {
    this.turnId = turnId;
    this.open.clear();
  }

  /** A delta the harness streamed: agent text of the running turn is kept until a message carries it. */
  delta(delta: Delta): void {
    if (delta.type !== 'agent_message_delta' || delta.turnId !== this.turnId) return;
    const text = this.open.get(delta.streamId) ?? '';
    // Past the item limit nothing more could be recorded: stop growing.
    if (text.length < MAX_TEXT_CHARS) this.open.set(delta.streamId, text + delta.text);
  }

  /** An item the harness emitted: a finished message settles its stream (nothing of it needs recording). */
  item(item: ItemBody): void {
    if (item.type === 'agent_message' && item.streamId) this.open.delete(item.streamId);
  }

  /** The unfinished messages, as partial agent messages in the order they started; forgets them. */
  take(): Extract<ItemBody, { type: 'agent_message' }>[] {
    const messages = [...this.open]
      .filter(([, text]) => text.trim() !== '')
      .map(([streamId, text]) => ({
        type: 'agent_message' as const,
        text: text.slice(0, MAX_TEXT_CHARS),
        streamId,
        partial: true,
      }));
    this.open.clear();
    return messages;
  }
}
