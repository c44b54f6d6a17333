import { join } from 'node:path';
import type { PolicyState } from '@yoke/policy';
import type { InboxEntry, SessionStartSpec } from '@yoke/protocol';
import { readJson, writeFileAtomic } from './files';

/** What a runner remembers of one session across restarts (besides its outbox). */
export interface SessionState {
  spec: SessionStartSpec;
  workspace: string;
  /** Inbox ids already applied, so a redelivered input is acknowledged but not applied twice. */
  applied: string[];
  /** Inputs accepted while a turn was running, waiting for their turn. */
  queued: InboxEntry[];
  /** The turn in flight, if any; found set after a restart, it ends as failed. */
  openTurn: { turnId: string; actor: { id: string; name: string } } | null;
  /** Approvals asked and not yet answered; after a restart they are closed as expired. */
  pendingApprovals?: string[];
  /** The policy state (a fold over this session's policy_decision items) and the last seq folded into it. */
  policyState?: PolicyState;
  policySeq?: number;
  /** Why the runner refused the requested workspace: then no harness ever starts, and no other directory stands in. */
  workspaceRefused?: string;
  /**
   * How many times a message switched this session to another harness (`spec.harness` and `spec.model` hold the
   * current ones). Each harness after the first keeps its own state directory, so it starts fresh.
   */
  harnessSwitches?: number;
}

const MAX_APPLIED = 10_000;

export class SessionStateStore {
  private readonly file: string;

  constructor(
    dir: string,
    public state: SessionState,
  ) {
    this.file = join(dir, 'state.json');
  }

  static load(dir: string): SessionStateStore | null {
    const state = readJson<SessionState>(join(dir, 'state.json'));
    return state ? new SessionStateStore(dir, state) : null;
  }

  hasApplied(id: string): boolean {
    return this.state.applied.includes(id);
  }

  update(change: (s: SessionState) => void): void {
    change(this.state);
    if (this.state.applied.length > MAX_APPLIED) this.state.applied = this.state.applied.slice(-MAX_APPLIED);
    writeFileAtomic(this.file, JSON.stringify(this.state));
  }
}
