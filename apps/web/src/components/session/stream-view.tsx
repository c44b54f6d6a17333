import { memo } from 'react';
import { AgentBubble, ReasoningBlock } from '@/components/session/items/message-items';
import type { Stream } from '@/lib/timeline';

/** An in-progress item built from deltas; the persisted item with the same stream replaces it. */
export const StreamView = memo(function StreamView({ stream }: { stream: Stream }) {
  const inner = (() => {
    switch (stream.kind) {
      case 'agent_message':
        return <AgentBubble text={stream.text} streamId={stream.streamId} isStreaming />;
      case 'reasoning':
        return <ReasoningBlock text={stream.text} streamId={stream.streamId} isStreaming />;
      case 'command_output':
        return (
          <pre className="output live" data-testid="live-output" data-call-id={stream.callId}>
            {stream.text}
          </pre>
        );
    }
  })();
  return (
    <li
      className={`item stream stream-${stream.kind}`}
      data-testid="stream"
      data-stream-id={stream.streamId}
      data-kind={stream.kind}
    >
      {inner}
    </li>
  );
});
