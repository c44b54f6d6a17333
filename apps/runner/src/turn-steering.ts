import type { Actor, ContentPart, InboxEntry, InboxInput, ItemBody } from '@yoke/protocol';
import type { HarnessSession } from '@yoke/harness';
import type { SessionStateStore } from './session-state';

type MessageEntry = Omit<InboxEntry, 'input'> & { input: Extract<InboxInput, { kind: 'message' }> };
export type PromptVerdict = { ok: true } | { ok: false; reason: string };

/** What the steering needs of its session. */
export interface SteeringHost {
  /** The session's state: its queue and the turn in flight. */
  store: SessionStateStore;
  /** The running harness session, if one is started. */
  harness: () => HarnessSession | null;
  /** The policies' verdict on a prompt (the same check a turn's first message passes). */
  checkPrompt: (content: ContentPart[], actor: Actor) => Promise<PromptVerdict>;
  /** Makes an item of the session durable. */
  record: (body: ItemBody, turnId: string, actor: Actor) => void;
  /** An offer is over (the message joined its turn, or stays queued): the queue may move on. */
  settled: () => void;
}

/**
 * Why a message that arrives now cannot join the running turn (null: it can). It must be next in the queue (nothing
 * older waits for a turn of its own), ask for no harness or model change (that starts a turn of its own), and the
 * running turn's harness must be able to take input mid-turn.
 */
export function steerRefusal(
  entry: InboxEntry,
  now: { openTurn: unknown; harness: HarnessSession | null; queued: readonly InboxEntry[] },
): string | null {
  if (entry.input.kind !== 'message') return 'not a message';
  if (!now.openTurn) return 'no turn is running';
  if (!now.harness?.steer) return 'the harness cannot take input during a turn';
  if (entry.input.harness !== undefined || entry.input.model !== undefined) return 'it switches harness or model';
  if (now.queued[0]?.id !== entry.id) return 'older messages are waiting';
  return null;
}

/**
 * Delivers messages that arrive while a turn runs into that turn, one at a time and in order, when the harness
 * can take them; the others stay queued for turns of their own. The policies check a steered message as they check
 * any prompt; a message that misses the turn it was offered to (it ended meanwhile) is not checked twice.
 */
export class TurnSteering {
  private chain: Promise<void> = Promise.resolve();
  /** The message being offered (it waits in the queue meanwhile, and no turn starts from it). */
  private offering: string | null = null;
  private readonly waiting = new Set<string>();
  /** A delivery the harness has not answered yet: the turn's end waits for it, so items keep their order. */
  private delivering: Promise<unknown> | null = null;
  /** The policies' verdicts on messages that missed the turn they were on their way into. */
  private readonly checked = new Map<string, PromptVerdict>();

  constructor(private readonly host: SteeringHost) {}

  /** Offers a just-queued message to the running turn. False when it cannot join it (it then waits its turn). */
  offer(entry: InboxEntry): boolean {
    // Messages already on their way into the turn are not waiting for turns of their own.
    const now = this.now;
    if (steerRefusal(entry, { ...now, queued: now.queued.filter((q) => !this.holds(q.id)) }) !== null) return false;
    const message = entry as MessageEntry;
    this.waiting.add(entry.id);
    this.chain = this.chain.then(() => this.attempt(message)).catch(() => undefined);
    return true;
  }

  /** True while `id` is being offered to the running turn: it must not start a turn of its own yet. */
  holds(id: string): boolean {
    return this.waiting.has(id) || this.offering === id;
  }

  /** The policies' verdict on this message if they already decided (it missed the turn it was offered to). */
  takeVerdict(id: string): PromptVerdict | undefined {
    const verdict = this.checked.get(id);
    this.checked.delete(id);
    return verdict;
  }

  /** Resolves once no delivery to the harness is unanswered. */
  async flush(): Promise<void> {
    while (this.delivering) await this.delivering;
  }

  private get now() {
    const { openTurn, queued } = this.host.store.state;
    return { openTurn, queued, harness: this.host.harness() };
  }

  private async attempt(entry: MessageEntry): Promise<void> {
    this.waiting.delete(entry.id);
    this.offering = entry.id;
    try {
      await this.deliver(entry);
    } finally {
      this.offering = null;
      this.host.settled();
    }
  }

  private async deliver(entry: MessageEntry): Promise<void> {
    const { content, actor } = entry.input;
    const turnId = this.host.store.state.openTurn?.turnId;
    if (!turnId || steerRefusal(entry, this.now) !== null) return;
    const verdict = await this.host.checkPrompt(content, actor);
    const harness = this.host.harness();
    if (this.host.store.state.openTurn?.turnId !== turnId || !harness?.steer) {
      // The turn ended while the policies decided: the message starts a turn of its own, checked once.
      this.checked.set(entry.id, verdict);
      return;
    }
    if (!verdict.ok) {
      this.join(entry, turnId, verdict.reason);
      return;
    }
    const delivery = harness.steer({ turnId, content, actor }).catch(() => false);
    this.delivering = delivery;
    try {
      if (await delivery) this.join(entry, turnId);
      else this.checked.set(entry.id, verdict);
    } finally {
      if (this.delivering === delivery) this.delivering = null;
    }
  }

  /**
   * The message belongs to turn `turnId` now: it leaves the queue and becomes that turn's `user_message`, by its
   * author. With `refusal` the policies refused it: it is recorded, and the agent never sees it.
   */
  private join(entry: MessageEntry, turnId: string, refusal?: string): void {
    const { content, actor } = entry.input;
    this.host.store.update((s) => (s.queued = s.queued.filter((q) => q.id !== entry.id)));
    this.host.record({ type: 'user_message', content }, turnId, actor);
    if (refusal)
      this.host.record({ type: 'notice', level: 'warning', text: `not sent to the agent: ${refusal}` }, turnId, actor);
  }
}
