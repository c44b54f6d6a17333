import type { Item } from '@yoke/protocol';
import { memo, type ReactNode } from 'react';
import {
  ApprovalDecision,
  ApprovalRequest,
  Egress,
  MeteredUsage,
  Notice,
  PolicyDecision,
  TurnCompleted,
  TurnFailed,
  TurnStarted,
  Usage,
} from '@/components/session/items/event-items';
import type { ItemOf } from '@/components/session/items/item-types';
import { AgentMessage, Reasoning, UserMessage } from '@/components/session/items/message-items';
import { PartialAgentMessage } from '@/components/session/items/turn-failed';
import { FileChange, ToolActionRow } from '@/components/session/items/tool-items';
import type { Row } from '@/lib/conversation';

function body(item: Item, call: ItemOf<'tool_call'> | null): ReactNode {
  switch (item.type) {
    case 'user_message':
      return <UserMessage item={item} />;
    case 'agent_message':
      return item.partial ? <PartialAgentMessage item={item} /> : <AgentMessage item={item} />;
    case 'reasoning':
      return <Reasoning item={item} />;
    case 'tool_call':
    case 'command':
    case 'tool_result':
      // Folded into a tool action row (lib/conversation).
      return null;
    case 'file_change':
      return <FileChange item={item} />;
    case 'approval_request':
      return <ApprovalRequest item={item} call={call} />;
    case 'approval_decision':
      return <ApprovalDecision item={item} />;
    case 'policy_decision':
      return <PolicyDecision item={item} />;
    case 'usage':
      return <Usage item={item} />;
    case 'metered_usage':
      return <MeteredUsage item={item} />;
    case 'turn_started':
      return <TurnStarted item={item} />;
    case 'turn_completed':
      return <TurnCompleted item={item} />;
    case 'turn_failed':
      return <TurnFailed item={item} />;
    case 'notice':
      return <Notice item={item} />;
    case 'egress':
      return <Egress item={item} />;
  }
}

/**
 * One row of the conversation: an item, or a tool action folded from several. `data-seq` is its first item,
 * `data-seqs` all of them; `#n` is the number fork and comments refer to.
 */
export const RowView = memo(function RowView({
  row,
  liveOutput,
  index,
  measureRef,
  offset,
}: {
  row: Row;
  liveOutput?: string;
  /** In a virtual list (VirtualRows): the row's index, measured by `measureRef`, placed `offset` px down. */
  index?: number;
  measureRef?: (el: HTMLLIElement | null) => void;
  offset?: number;
}) {
  const type = row.kind === 'tool' ? 'tool_action' : row.item.type;
  return (
    <li
      ref={measureRef}
      data-index={index}
      style={
        offset === undefined
          ? undefined
          : { position: 'absolute', top: 0, left: 0, right: 0, transform: `translateY(${offset}px)` }
      }
      className={`item item-${type}`}
      data-testid="item"
      data-seq={row.seqs[0]}
      data-seqs={row.seqs.join(' ')}
      data-type={type}
      id={`item-${row.seqs[0]}`}
    >
      <a className="item-no" href={`#item-${row.seqs[0]}`} data-testid="item-no" title={`Item ${row.seqs[0]}`}>
        #{row.seqs[0]}
      </a>
      <div className="item-body">
        {row.kind === 'tool' ? <ToolActionRow action={row.action} liveOutput={liveOutput} /> : body(row.item, row.call)}
      </div>
    </li>
  );
});
