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
import { AgentMessage, Reasoning, UserMessage } from '@/components/session/items/message-items';
import { CommandItem, FileChange, ToolCall, type ToolOutcome, ToolResult } from '@/components/session/items/tool-items';

function body(item: Item, liveOutput: string | undefined, toolOutcome: ToolOutcome | undefined): ReactNode {
  switch (item.type) {
    case 'user_message':
      return <UserMessage item={item} />;
    case 'agent_message':
      return <AgentMessage item={item} />;
    case 'reasoning':
      return <Reasoning item={item} />;
    case 'tool_call':
      return <ToolCall item={item} liveOutput={liveOutput} outcome={toolOutcome} />;
    case 'tool_result':
      return <ToolResult item={item} />;
    case 'command':
      return <CommandItem item={item} />;
    case 'file_change':
      return <FileChange item={item} />;
    case 'approval_request':
      return <ApprovalRequest item={item} />;
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

/** One persisted item. `liveOutput` is the streaming output of a tool call's command, until it completes. */
export const ItemView = memo(function ItemView({
  item,
  liveOutput,
  toolOutcome,
}: {
  item: Item;
  liveOutput?: string;
  toolOutcome?: ToolOutcome;
}) {
  return (
    <li className={`item item-${item.type}`} data-testid="item" data-seq={item.seq} data-type={item.type}>
      {body(item, liveOutput, toolOutcome)}
    </li>
  );
});
