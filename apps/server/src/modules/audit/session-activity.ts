import {
  type Actor,
  type ApprovalDecision,
  type ApprovalStatus,
  approvalStatusFor,
  type AuditActor,
  type AuditOutcome,
  type ContentPart,
  type ItemDraft,
} from '@yoke/protocol';
import type { AuditEntry } from './audit-trail.service';

/** The session a batch of items belongs to. */
export type SessionActivityContext = {
  orgId: string;
  sessionId: string;
  /** The user the session's agent acts for. */
  ownerId: string;
  /**
   * For each `approval_decision` item of the batch, its approval as the batch found it: when it was requested, and its
   * status before this decision (`pending` when the item settled it, else a human's REST decision came first).
   */
  approvals?: ReadonlyMap<string, { requestedAt: Date; previous: ApprovalStatus }>;
};

/**
 * The audit events of a batch of session items (DESIGN §9, "session activity is audited in the appendItems
 * transaction"). Pure: the caller records what this returns in the transaction that stores the items. Prompts, tool
 * input and output, commands and reasons travel as content (stored apart, by hash), never as details.
 *
 * Skipped: streamed text (agent messages, reasoning), usage, notices, file changes and turn boundaries; what a policy
 * allowed outright (a plain allow is the absence of an event); and an approval decision a human already made through
 * the API (that call recorded it, with its origin).
 */
export function sessionActivity(ctx: SessionActivityContext, items: readonly ItemDraft[]): AuditEntry[] {
  const out: AuditEntry[] = [];
  const agent: AuditActor = { kind: 'agent', id: ctx.sessionId, onBehalfOf: ctx.ownerId };
  const session = { kind: 'session', id: ctx.sessionId };
  for (const item of items) {
    const base = { orgId: ctx.orgId, sessionId: ctx.sessionId, turnId: item.turnId ?? null };
    switch (item.type) {
      case 'user_message':
        out.push({
          ...base,
          action: 'session.prompt',
          target: session,
          actor: item.actor ? userOf(item.actor) : { kind: 'user', id: ctx.ownerId },
          details: { parts: item.content.length },
          content: promptContent(item.content),
        });
        break;
      case 'tool_call':
        out.push({
          ...base,
          action: 'tool.call',
          target: { kind: 'tool_call', id: item.callId, name: item.nativeTool.slice(0, 500) },
          actor: agent,
          outcome: item.status === 'denied' ? 'denied' : item.status === 'failed' ? 'failed' : 'success',
          details: { callId: item.callId, tool: item.tool, nativeTool: item.nativeTool, status: item.status },
          content: item.input ?? null,
        });
        break;
      case 'tool_result':
        out.push({
          ...base,
          action: 'tool.result',
          target: { kind: 'tool_call', id: item.callId },
          actor: agent,
          outcome: item.isError ? 'failed' : 'success',
          details: { callId: item.callId, isError: item.isError },
          content: item.output,
        });
        break;
      case 'command':
        out.push({
          ...base,
          action: 'tool.result',
          target: { kind: 'tool_call', id: item.callId },
          actor: agent,
          outcome: item.exitCode === 0 ? 'success' : 'failed',
          details: { callId: item.callId, exitCode: item.exitCode },
          content: { argv: item.argv, cwd: item.cwd, output: item.output },
        });
        break;
      case 'policy_decision': {
        if (item.verdict === 'allow') break;
        const onPrompt = item.action === 'prompt';
        out.push({
          ...base,
          action: 'policy.decision',
          target: item.callId ? { kind: 'tool_call', id: item.callId } : session,
          actor: onPrompt && item.actor ? userOf(item.actor) : agent,
          outcome: item.verdict === 'deny' ? 'denied' : 'success',
          details: {
            verdict: item.verdict,
            policies: item.policies.join(', '),
            action: item.action ?? null,
            callId: item.callId ?? null,
          },
          ...(item.reasons.length > 0 ? { content: { reasons: item.reasons } } : {}),
        });
        // A decision on a model usage report that is not a plain allow is a spend threshold (cost_budget asks at
        // its thresholds and denies at its cap): named as such, so a reviewer finds spend without reading policies.
        if (item.action === 'usage') {
          out.push({
            ...base,
            action: 'spend.threshold_crossed',
            target: session,
            actor: agent,
            outcome: item.verdict === 'deny' ? 'denied' : 'success',
            details: { verdict: item.verdict, policies: item.policies.join(', ') },
            ...(item.reasons.length > 0 ? { content: { reasons: item.reasons } } : {}),
          });
        }
        break;
      }
      case 'approval_request':
        out.push({
          ...base,
          action: 'approval.requested',
          target: { kind: 'approval', id: item.approvalId },
          actor: agent,
          details: {
            approvalId: item.approvalId,
            policy: item.policy,
            subject: item.subject ?? (item.callId ? 'tool_call' : null),
            callId: item.callId ?? null,
          },
          content: { reason: item.reason, options: item.options },
        });
        break;
      case 'approval_decision': {
        const found = ctx.approvals?.get(item.approvalId);
        // A human's API decision recorded itself; the runner applying that same decision is no second event.
        if (found && found.previous !== 'pending' && found.previous === approvalStatusFor(item.decision)) break;
        out.push({
          ...base,
          action: 'approval.decided',
          target: { kind: 'approval', id: item.approvalId },
          actor: item.actor ? userOf(item.actor) : { kind: 'system', id: 'yoke' },
          outcome: decisionOutcome(item.decision),
          details: {
            approvalId: item.approvalId,
            decision: item.decision,
            ...(found ? { waitedSeconds: secondsBetween(found.requestedAt, new Date(item.createdAt)) } : {}),
          },
        });
        break;
      }
      case 'turn_failed':
        out.push({
          ...base,
          action: 'session.turn_failed',
          target: session,
          actor: agent,
          outcome: 'failed',
          content: { error: item.error },
        });
        break;
      case 'egress': {
        // Egress by host: each refusal, each host reached (once per credential set), and each credential injected
        // for a host (by name; its value never leaves the runner's vault).
        const host = { kind: 'host', id: `${item.host}:${item.port}`, name: item.host };
        const details = { method: item.method, host: item.host, port: item.port };
        if (item.decision === 'denied') {
          out.push({
            ...base,
            action: 'egress.denied',
            target: host,
            actor: agent,
            outcome: 'denied',
            details: { ...details, code: item.code ?? null, path: item.path?.slice(0, 500) ?? null },
            ...(item.reason ? { content: { reason: item.reason } } : {}),
          });
          break;
        }
        out.push({ ...base, action: 'egress.allowed', target: host, actor: agent, details });
        for (const credential of item.credentials ?? []) {
          out.push({
            ...base,
            action: 'egress.credential_injected',
            target: host,
            actor: agent,
            details: { ...details, credential },
          });
        }
        break;
      }
      case 'turn_started':
      case 'turn_completed':
      case 'agent_message':
      case 'reasoning':
      case 'file_change':
      case 'usage':
      case 'metered_usage':
      case 'notice':
        // Metered calls are per-call facts of their own (metered_usage, the usage report); a turn whose reported and
        // metered cost disagree is the event (usageMismatchEvent).
        break;
    }
  }
  return out;
}

/** Whole seconds from `from` to `to`, never negative (runner and server clocks may disagree a little). */
export function secondsBetween(from: Date, to: Date): number {
  return Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000));
}

/** An approval decision's outcome: approving succeeds; a refusal or a timeout denies what waited. */
export function decisionOutcome(decision: ApprovalDecision): AuditOutcome {
  return approvalStatusFor(decision) === 'approved' ? 'success' : 'denied';
}

function userOf(actor: Actor): AuditActor {
  return { kind: actor.kind === 'guest' ? 'guest' : 'user', id: actor.id, name: actor.name };
}

/** A prompt's text; the parts themselves when it carries more than text (attached files). */
function promptContent(parts: ContentPart[]): unknown {
  if (parts.every((p) => p.type === 'text')) return parts.map((p) => p.text).join('\n');
  return parts;
}

/**
 * A turn whose harness-reported cost differs from what the egress proxy metered from the provider's responses: a
 * harness under-reporting (or a price table out of date) is evidence a FinOps review wants to find.
 */
export function usageMismatchEvent(
  ctx: Pick<SessionActivityContext, 'orgId' | 'sessionId' | 'ownerId'>,
  m: { turnId: string; reportedMicros: number; meteredMicros: number; calls: number },
): AuditEntry {
  return {
    orgId: ctx.orgId,
    sessionId: ctx.sessionId,
    turnId: m.turnId,
    action: 'usage.mismatch',
    target: { kind: 'session', id: ctx.sessionId },
    actor: { kind: 'agent', id: ctx.sessionId, onBehalfOf: ctx.ownerId },
    outcome: 'failed',
    details: { reportedMicros: m.reportedMicros, meteredMicros: m.meteredMicros, meteredCalls: m.calls },
  };
}
