import { ApprovalActions } from '@/components/collab/approval-actions';
import type { ItemOf } from '@/components/session/items/item-types';
import { inputGist } from '@/lib/conversation';
import { formatCost, formatJson, formatTokens } from '@/lib/format';

export function Usage({ item }: { item: ItemOf<'usage'> }) {
  return (
    <div className="quiet-line usage" data-testid="usage">
      <span>{item.model}</span>
      <span>{formatTokens(item.inputTokens)} in</span>
      <span>{formatTokens(item.outputTokens)} out</span>
      {item.cachedTokens > 0 && <span>{formatTokens(item.cachedTokens)} cached</span>}
      <span>{formatCost(item.costUsd)}</span>
    </div>
  );
}

/** A model call as the egress proxy metered it from the provider's response: the figure cost policies count. */
export function MeteredUsage({ item }: { item: ItemOf<'metered_usage'> }) {
  const cache = item.cacheReadTokens + item.cacheWriteTokens;
  return (
    <div className="quiet-line usage" data-testid="metered-usage" title={`Price table ${item.priceVersion}`}>
      <span>Metered · {item.model}</span>
      <span>{formatTokens(item.inputTokens)} in</span>
      <span>{formatTokens(item.outputTokens)} out</span>
      {cache > 0 && <span>{formatTokens(cache)} cache</span>}
      <span>{formatCost(item.costMicros / 1_000_000)}</span>
    </div>
  );
}

export function TurnStarted({ item }: { item: ItemOf<'turn_started'> }) {
  return (
    <div className="turn-divider" role="separator">
      <span>Turn started{item.actor?.name ? ` by ${item.actor.name}` : ''}</span>
    </div>
  );
}

const STOP_LABEL: Record<ItemOf<'turn_completed'>['stopReason'], string> = {
  end_turn: 'Turn completed',
  max_turns: 'Turn stopped: step limit reached',
  cancelled: 'Turn cancelled',
  refusal: 'Turn ended: the model refused',
};

export function TurnCompleted({ item }: { item: ItemOf<'turn_completed'> }) {
  return (
    <div className={`turn-divider stop-${item.stopReason}`} role="separator">
      <span>{STOP_LABEL[item.stopReason]}</span>
    </div>
  );
}

// A failed turn says what went wrong in a sentence and offers Retry: it holds state, so it has a file of its own.
export { TurnFailed } from '@/components/session/items/turn-failed';

export function Notice({ item }: { item: ItemOf<'notice'> }) {
  return (
    <div className={`notice notice-${item.level}`} role={item.level === 'error' ? 'alert' : 'note'}>
      {item.text}
    </div>
  );
}

/** A host the sandbox's egress proxy let through (once per credential set) or refused. */
export function Egress({ item }: { item: ItemOf<'egress'> }) {
  const target = `${item.method} ${item.host}${item.port ? `:${item.port}` : ''}${item.path ?? ''}`;
  if (item.decision === 'denied') {
    return (
      <div className="notice notice-warning" role="note" data-testid="egress-denied">
        Egress denied: {target}
        {item.code ? ` — ${item.code}` : ''}
        {item.reason ? `: ${item.reason}` : ''}
      </div>
    );
  }
  return (
    <div className="notice notice-info" role="note">
      Egress allowed: {target}
      {item.credentials?.length ? ` (credential ${item.credentials.join(', ')} injected)` : ''}
    </div>
  );
}

const SUBJECT: Record<NonNullable<ItemOf<'approval_request'>['subject']>, string> = {
  tool_call: 'a tool call',
  prompt: 'a prompt',
  usage: 'the session to continue after its usage',
};

/** What waits for a person: the exact action (the tool call's command or input), the policy and its reason once. */
export function ApprovalRequest({
  item,
  call,
}: {
  item: ItemOf<'approval_request'>;
  call: ItemOf<'tool_call'> | null;
}) {
  const gist = call ? inputGist(call.input) : null;
  return (
    <div className="approval-card" data-approval-id={item.approvalId} data-testid="approval-card">
      <div className="approval-title">
        <strong>Approval needed</strong> for{' '}
        {call ? <span className="chip">{call.tool}</span> : SUBJECT[item.subject ?? 'tool_call']}
      </div>
      {call && (
        <pre className="code approval-action" data-testid="approval-action">
          {gist ?? formatJson(call.input)}
        </pre>
      )}
      <div className="small">
        Policy <code>{item.policy}</code>
        {item.reason ? `: ${item.reason}` : ''}
      </div>
      {item.options.length > 0 && <div className="muted small">Options: {item.options.join(', ')}</div>}
      <ApprovalActions
        sessionId={item.sessionId}
        approvalId={item.approvalId}
        options={item.options}
        askedAt={item.createdAt}
      />
    </div>
  );
}

/** How each recorded decision reads in the conversation. */
const DECISION_LABEL: Record<ItemOf<'approval_decision'>['decision'], string> = {
  approve: 'Approved',
  approve_session: 'Always allowed in this session',
  deny: 'Denied',
  timeout: 'Timed out',
  cancelled: 'Cancelled',
  expired: 'Expired',
};

export function ApprovalDecision({ item }: { item: ItemOf<'approval_decision'> }) {
  return (
    <div className="quiet-line" data-approval-id={item.approvalId} data-decision={item.decision}>
      <strong>{DECISION_LABEL[item.decision]}</strong>
      {item.actor?.name ? ` by ${item.actor.name}` : ''}
    </div>
  );
}

const ACTION_LABEL = { prompt: 'prompt', tool_call: 'tool call', usage: 'usage' } as const;

/** A policy verdict: allowed ones are quiet (and hidden unless asked for), ask and deny stand out. */
export function PolicyDecision({ item }: { item: ItemOf<'policy_decision'> }) {
  return (
    <div
      className={
        item.verdict === 'allow'
          ? 'quiet-line'
          : `notice ${item.verdict === 'deny' ? 'notice-error' : 'notice-warning'}`
      }
      data-testid="policy-decision"
      data-verdict={item.verdict}
    >
      Policy <strong>{item.verdict}</strong>
      {item.action ? ` · ${ACTION_LABEL[item.action]}` : ''}
      {item.policies.length > 0 && <> ({item.policies.join(', ')})</>}
      {item.reasons.length > 0 && <div className="small">{item.reasons.join(' · ')}</div>}
    </div>
  );
}
