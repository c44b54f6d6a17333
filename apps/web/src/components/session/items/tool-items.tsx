import { DiffBlock } from '@/components/session/diff-block';
import type { ItemOf } from '@/components/session/items/item-types';
import { formatArgv, formatJson } from '@/lib/format';

const str = (v: unknown): string | null => (typeof v === 'string' && v ? v : null);

/** A one-line gist of a tool's input (the command, the path, the query) when it has an obvious one. */
function summarize(input: unknown): string | null {
  if (typeof input !== 'object' || input === null) return str(input);
  const o = input as Record<string, unknown>;
  if (Array.isArray(o.argv) && o.argv.every((a) => typeof a === 'string')) return formatArgv(o.argv as string[]);
  return str(o.command) ?? str(o.path) ?? str(o.file_path) ?? str(o.pattern) ?? str(o.query) ?? str(o.url);
}

export type ToolOutcome = 'completed' | 'failed';

export function ToolCall({
  item,
  liveOutput,
  outcome,
}: {
  item: ItemOf<'tool_call'>;
  liveOutput?: string;
  outcome?: ToolOutcome;
}) {
  const gist = summarize(item.input);
  const status = outcome ?? item.status;
  return (
    <div className="tool" data-call-id={item.callId}>
      <div className="tool-head">
        <span className="tool-kind" data-testid="tool-kind">
          {item.tool}
        </span>
        {item.nativeTool && item.nativeTool !== item.tool && <span className="muted">{item.nativeTool}</span>}
        <span className={`pill tool-${status}`} data-testid="tool-status">
          {status}
        </span>
      </div>
      {gist && <code className="tool-gist">{gist}</code>}
      <details className="tool-input">
        <summary>Input</summary>
        <pre className="code">{formatJson(item.input)}</pre>
      </details>
      {liveOutput !== undefined && (
        <pre className="output live" data-testid="live-output" aria-live="off">
          {liveOutput}
        </pre>
      )}
    </div>
  );
}

export function ToolResult({ item }: { item: ItemOf<'tool_result'> }) {
  return (
    <div className={`tool-result${item.isError ? ' is-error' : ''}`} data-call-id={item.callId}>
      <div className="tool-head">
        <span className="muted">{item.isError ? 'Tool error' : 'Tool result'}</span>
      </div>
      {item.output && <pre className="output">{item.output}</pre>}
    </div>
  );
}

export function CommandItem({ item }: { item: ItemOf<'command'> }) {
  const exit = item.exitCode;
  return (
    <div className="command" data-call-id={item.callId}>
      <div className="command-line">
        <code className="argv" data-testid="command-argv">
          <span aria-hidden="true">$ </span>
          {formatArgv(item.argv)}
        </code>
        <span
          className={`pill ${exit === 0 ? 'exit-ok' : 'exit-fail'}`}
          data-testid="exit-code"
          data-exit-code={exit ?? ''}
        >
          {exit === null ? 'no exit code' : `exit ${exit}`}
        </span>
      </div>
      {item.cwd && <div className="muted small">in {item.cwd}</div>}
      {item.output && <pre className="output">{item.output}</pre>}
    </div>
  );
}

export function FileChange({ item }: { item: ItemOf<'file_change'> }) {
  return (
    <div className="file-change">
      <div className="tool-head">
        <span className="tool-kind">edit</span>
        <code>{item.path}</code>
      </div>
      <DiffBlock diff={item.diff} />
    </div>
  );
}
