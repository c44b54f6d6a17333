import type { Logger } from 'pino';
import { z } from 'zod';
import { type Actor, SpawnChildAck } from '@yoke/protocol';
import type { DelegateRequest, DelegateResult } from '@yoke/harness';
import { ACK_TIMEOUT_MS, type RunnerConnection, SEND_RETRY_MS } from './runner-connection';
import type { SessionSupervisor, TurnResult } from './session-supervisor';

/** How many times a child-session request is sent before the delegate call fails (each waits up to ACK_TIMEOUT_MS). */
const SPAWN_ATTEMPTS = 8;

/**
 * Delegation: a parent's `delegate` call becomes a child session that the server creates and sends back here; the
 * call waits for the child's turn to end, and cancelling the parent's turn cancels the children it waits for.
 */
export class ChildSessions {
  /** Delegate calls waiting for their child session's turn to end, by child session id. */
  private readonly waiters = new Map<string, ((result: TurnResult) => void)[]>();
  /** Child sessions started by each parent's delegate calls during this process's lifetime. */
  private readonly childrenOf = new Map<string, Set<string>>();

  constructor(
    private readonly connection: RunnerConnection,
    private readonly sessions: ReadonlyMap<string, SessionSupervisor>,
    private readonly log: Logger,
  ) {}

  /**
   * A parent's `delegate` call: the server creates the child session (idempotent by the call id, so a retry never
   * makes two) and sends it here like any session; the call resolves with the child's final answer.
   */
  async delegate(parentId: string, request: DelegateRequest, traceparent?: string): Promise<DelegateResult> {
    const payload = {
      parentId,
      callId: request.callId,
      agent: request.agent,
      prompt: request.prompt,
      ...(traceparent ? { traceparent } : {}),
    };
    let raw: unknown;
    let answered = false;
    for (let attempt = 0; attempt < SPAWN_ATTEMPTS && !this.connection.isStopped; attempt++) {
      try {
        raw = await this.connection.socket.timeout(ACK_TIMEOUT_MS).emitWithAck('session.spawn_child', payload);
        answered = true;
        break;
      } catch {
        await new Promise((r) => setTimeout(r, SEND_RETRY_MS));
      }
    }
    if (!answered) return { ok: false, error: 'the server did not answer the request for a child session' };
    const parsed = SpawnChildAck.safeParse(raw);
    if (!parsed.success) {
      this.log.error(
        { parentId, callId: request.callId, issues: z.prettifyError(parsed.error) },
        'the server answered the request for a child session with a reply the protocol does not allow',
      );
      return { ok: false, error: 'the server answered the request for a child session with a malformed reply' };
    }
    const reply = parsed.data;
    if (!reply.ok) return { ok: false, error: `the server refused the child session: ${reply.error.message}` };
    const childId = reply.sessionId;
    this.childrenOf.set(parentId, (this.childrenOf.get(parentId) ?? new Set()).add(childId));
    this.log.info({ parentId, childId, agent: request.agent, created: reply.created }, 'delegated to a child session');
    const finished = this.sessions.get(childId)?.lastTurnResult;
    const result =
      finished ??
      (await new Promise<TurnResult>((resolve) => {
        this.waiters.set(childId, [...(this.waiters.get(childId) ?? []), resolve]);
      }));
    return result.ok
      ? { ok: true, sessionId: childId, text: result.text }
      : { ok: false, sessionId: childId, error: result.error };
  }

  /** A session's turn ended: the delegate calls waiting for it hear its answer. */
  turnEnded(sessionId: string, result: TurnResult): void {
    const waiters = this.waiters.get(sessionId) ?? [];
    this.waiters.delete(sessionId);
    for (const resolve of waiters) resolve(result);
  }

  /** Cancelling a parent's turn cancels the children it is waiting for, in turn. */
  cancelled(parentId: string, actor: Actor | undefined): void {
    for (const childId of this.childrenOf.get(parentId) ?? []) {
      if (this.waiters.has(childId)) this.sessions.get(childId)?.cancelTurn(actor);
    }
  }
}
