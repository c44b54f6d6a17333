import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { PolicyState } from '@yoke/policy';
import type { InboxEntry, SessionStartSpec } from '@yoke/protocol';
import { readJson, writeFileAtomic, writeSyncedAsync } from './files';

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
/** Numbers each staged write's temporary file: two stores of one directory (a session reopened) never share one. */
let stagedWrites = 0;

export class SessionStateStore {
  private readonly file: string;
  /** Bumped by every change; `written` is the newest version on disk. */
  private version = 0;
  private written = 0;
  /** The write that will carry the changes staged since the last one started (not started yet). */
  private queued: Promise<void> | null = null;
  /** The writes in flight, one after another. */
  private chain: Promise<void> = Promise.resolve();

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

  /** Changes the state and writes it to disk before returning (blocking the event loop for the fsync). */
  update(change: (s: SessionState) => void): void {
    this.change(change);
    writeFileAtomic(this.file, JSON.stringify(this.state));
    this.written = this.version;
  }

  /**
   * Changes the state at once and writes it off the event loop. Changes staged in one run of the event loop share
   * one write. Resolves once the state, this change included, is on disk; rejects if that write failed. A caller
   * that must not act before the change is durable (acknowledge an input, start a turn) awaits it.
   */
  stage(change: (s: SessionState) => void): Promise<void> {
    this.change(change);
    return this.durable();
  }

  /** Resolves once every change made so far is on disk. */
  durable(): Promise<void> {
    if (this.written >= this.version) return Promise.resolve();
    if (!this.queued) {
      const write = this.chain.then(() => {
        this.queued = null;
        return this.write();
      });
      this.queued = write;
      this.chain = write.catch(() => undefined);
    }
    return this.queued;
  }

  private change(change: (s: SessionState) => void): void {
    change(this.state);
    if (this.state.applied.length > MAX_APPLIED) this.state.applied = this.state.applied.slice(-MAX_APPLIED);
    this.version++;
  }

  private async write(): Promise<void> {
    const version = this.version;
    if (this.written >= version) return; // an `update` wrote it meanwhile
    const tmp = `${this.file}.${process.pid}.${++stagedWrites}.tmp`;
    await writeSyncedAsync(tmp, JSON.stringify(this.state));
    // The rename runs on the event loop, so no `update` lands between the check and it: an older state never
    // replaces a newer one.
    if (this.written >= version) {
      rmSync(tmp, { force: true });
      return;
    }
    renameSync(tmp, this.file);
    this.written = version;
  }
}
