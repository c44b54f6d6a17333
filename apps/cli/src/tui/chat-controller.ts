import { randomUUID } from 'node:crypto';
import { IGNORE_REPLY } from '@yoke/client';
import { type HumanDecision, OrgPolicies, Session, SessionAccess, SessionPage, ShareLink } from '@yoke/protocol';
import type { ApiClient } from '../api-client';
import { usageTotals } from './chat-state';
import type { ChatStore } from './chat-store';
import { formatCost, formatTokens } from './format';
import { helpText, parseSlashCommand, type SlashCommand } from './slash-commands';

/**
 * What the terminal UI does: follows one session into the store, and turns the user's prompts, keys and slash
 * commands into API calls. No terminal code here; the Ink view calls these methods.
 */
export class ChatController {
  private follower: { close: () => void } | null = null;
  private deciding = new Set<string>();
  private _sessionId = '';

  constructor(
    private readonly api: ApiClient,
    private readonly store: ChatStore,
    private readonly onExit: () => void,
  ) {}

  get sessionId(): string {
    return this._sessionId;
  }

  /** Shows session `id` from its first item on, live (a switch closes the one before). */
  async open(id: string): Promise<void> {
    this.follower?.close();
    this.follower = null;
    this.store.dispatch({ type: 'reset' });
    this._sessionId = id;
    try {
      const [session, access] = await Promise.all([
        this.api.request('GET', `/sessions/${id}`, Session),
        this.api.request('GET', `/sessions/${id}/access`, SessionAccess),
      ]);
      if (this._sessionId !== id) return;
      this.store.dispatch({ type: 'access', access });
      this.store.dispatch({ type: 'session', session });
    } catch (err) {
      this.note('error', `cannot open session ${id}: ${(err as Error).message}`);
      return;
    }
    this.follower = this.api.follow(id, {
      onItem: (item) => this.store.dispatch({ type: 'item', item }),
      onDelta: (delta) => this.store.dispatch({ type: 'delta', delta }),
      onSession: (session) => this.store.dispatch({ type: 'session', session }),
      onPresence: (event) => this.store.dispatch({ type: 'presence', viewers: event.viewers }),
      onError: (error) => this.note('error', `${error.code}: ${error.message}`),
    });
  }

  /** A prompt from the input line: a slash command, or a message to the agent. */
  async submit(text: string): Promise<void> {
    const command = parseSlashCommand(text);
    if (command && 'error' in command) return this.note('error', command.error);
    if (command) return this.run(command);
    const state = this.store.getState();
    if (state.access && !state.access.canDrive) {
      return this.note('error', `you are a ${state.access.role} of this session: you cannot send prompts`);
    }
    const { nextHarness, nextModel } = state;
    try {
      await this.api.request('POST', `/sessions/${this._sessionId}/messages`, IGNORE_REPLY, {
        text,
        idempotencyKey: randomUUID(),
        ...(nextHarness ? { harness: nextHarness } : {}),
        ...(nextModel ? { model: nextModel } : {}),
      });
      if (nextHarness || nextModel) this.store.dispatch({ type: 'next', harness: null, model: null });
    } catch (err) {
      this.note('error', `not sent: ${(err as Error).message}`);
    }
  }

  /**
   * Ctrl-C: cancels the running turn; otherwise it clears the prompt's text, and on an empty prompt it leaves.
   * Returns what it did, so the view can clear its input.
   */
  interrupt(isPromptEmpty: boolean): 'cancel' | 'clear' | 'exit' {
    const state = this.store.getState();
    // While a cancel is on its way, Ctrl-C again leaves (a runner that never answers cannot hold the terminal).
    if (state.isTurnRunning && !state.isCancelling && state.access?.canDrive !== false) {
      void this.cancel();
      return 'cancel';
    }
    if (!isPromptEmpty) return 'clear';
    this.exit();
    return 'exit';
  }

  async cancel(): Promise<void> {
    this.store.dispatch({ type: 'cancelling' });
    try {
      await this.api.request('POST', `/sessions/${this._sessionId}/cancel`, IGNORE_REPLY, {});
    } catch (err) {
      this.note('error', `cancel failed: ${(err as Error).message}`);
    }
  }

  /** Answers an approval; whoever answers first (here, the web, another terminal) wins, and the item says who. */
  async decide(approvalId: string, decision: HumanDecision): Promise<void> {
    if (this.deciding.has(approvalId)) return;
    this.deciding.add(approvalId);
    try {
      await this.api.request(
        'POST',
        `/sessions/${this._sessionId}/approvals/${encodeURIComponent(approvalId)}`,
        IGNORE_REPLY,
        { decision },
      );
    } catch (err) {
      this.deciding.delete(approvalId);
      this.note('error', `not decided: ${(err as Error).message}`);
    }
  }

  expand(): void {
    this.store.dispatch({ type: 'expand' });
  }

  exit(): void {
    this.follower?.close();
    this.follower = null;
    this.store.close();
    this.onExit();
  }

  private note(level: 'info' | 'error' | 'dim', text: string): void {
    this.store.dispatch({ type: 'note', level, text });
  }

  private async run(command: SlashCommand): Promise<void> {
    try {
      await this.runCommand(command);
    } catch (err) {
      this.note('error', `/${command.name}: ${(err as Error).message}`);
    }
  }

  private async runCommand(command: SlashCommand): Promise<void> {
    const id = this._sessionId;
    switch (command.name) {
      case 'help':
        return this.store.dispatch({ type: 'block', title: 'Help', text: helpText() });
      case 'exit':
        return this.exit();
      case 'expand':
        return this.expand();
      case 'harness':
        this.store.dispatch({ type: 'next', harness: command.value });
        return this.note('info', `harness ${command.value} from the next turn`);
      case 'model':
        this.store.dispatch({ type: 'next', model: command.value });
        return this.note('info', `model ${command.value} from the next turn`);
      case 'share': {
        const link = await this.api.request('POST', `/sessions/${id}/shares/links`, ShareLink, {
          role: command.role,
        });
        const url = `${this.api.server}/join/?token=${encodeURIComponent(link.token ?? '')}`;
        return this.store.dispatch({ type: 'block', title: `Share link (${link.role})`, text: url });
      }
      case 'fork': {
        const state = this.store.getState();
        const seq = command.seq ?? Math.max(state.lastSeq, state.session?.lastSeq ?? 0);
        if (seq < 1) return this.note('error', '/fork: the session has no items yet');
        const fork = await this.api.request('POST', `/sessions/${id}/fork`, Session, { seq });
        await this.open(fork.id);
        return this.note('info', `forked ${id} at item ${seq}: now in ${fork.id}`);
      }
      case 'attach':
        await this.open(command.sessionId);
        return this.note('info', `attached to ${command.sessionId}`);
      case 'cost':
        return this.store.dispatch({ type: 'block', title: 'Cost', text: this.costText() });
      case 'sessions': {
        const page = await this.api.request('GET', '/sessions?limit=20', SessionPage);
        const lines = page.sessions.map(
          (s) => `${s.id === id ? '*' : ' '} ${s.id}  ${s.status.padEnd(16)} ${s.title || s.agent.name}`,
        );
        return this.store.dispatch({
          type: 'block',
          title: 'Sessions (/attach ID to switch)',
          text: lines.join('\n') || '(none)',
        });
      }
      case 'policy': {
        const set = await this.api.request('GET', '/policies', OrgPolicies);
        return this.store.dispatch({
          type: 'block',
          title: `Org policies (version ${set.version}, ${set.count})`,
          text: set.yaml.trim() || '# no org policies',
        });
      }
    }
  }

  private costText(): string {
    const state = this.store.getState();
    const total = usageTotals(state);
    const rows = (title: string, by: typeof state.metered) =>
      Object.entries(by).map(
        ([model, u]) =>
          `  ${title.padEnd(9)} ${model}: ${formatTokens(u.inputTokens)} in / ${formatTokens(u.outputTokens)} out, ${formatCost(u.costUsd)}`,
      );
    return [
      `total: ${formatTokens(total.inputTokens)} in / ${formatTokens(total.outputTokens)} out, ${formatCost(total.costUsd)}`,
      ...rows('metered', state.metered),
      ...rows('reported', state.reported),
    ].join('\n');
  }
}
