import { lazy, Suspense, useMemo, useState } from 'react';
import { DiffBlock } from '@/components/session/diff-block';
import { describeDiffStats, diffStats } from '@/components/session/diff-stats';
import type { ItemOf } from '@/components/session/items/item-types';
import { formatDuration, summarizeAction, type ToolAction } from '@/lib/conversation';
import { formatJson } from '@/lib/format';

// The diff viewer is fetched when someone first opens a file change, so the session page's first load doesn't carry it.
const DiffView = lazy(() => import('@/components/session/diff-view'));

const STATE_LABEL = { running: 'running', ok: 'done', failed: 'failed', denied: 'denied' } as const;

/**
 * One tool action on one line ("Ran `npm test` · exit 0 · 1.2 s"): its call, command and result folded together,
 * opening to the output and the input. `liveOutput` is the command's output while it still runs.
 */
export function ToolActionRow({ action, liveOutput }: { action: ToolAction; liveOutput?: string }) {
  const s = summarizeAction(action);
  const isLive = s.state === 'running' && liveOutput !== undefined;
  return (
    <div
      className={`action action-${s.state}`}
      data-testid="tool-action"
      data-call-id={action.callId}
      data-state={s.state}
    >
      <details>
        <summary>
          <span className="action-verb" data-testid="tool-kind" data-tool={action.call?.tool ?? 'shell'}>
            {s.verb}
          </span>
          {s.target && (
            <code className="action-target" data-testid="action-target">
              {s.target}
            </code>
          )}
          {s.exitCode !== null && (
            <span
              className={`action-meta ${s.exitCode === 0 ? 'exit-ok' : 'exit-fail'}`}
              data-testid="exit-code"
              data-exit-code={s.exitCode}
            >
              · exit {s.exitCode}
            </span>
          )}
          {s.durationMs !== null && <span className="action-meta">· {formatDuration(s.durationMs)}</span>}
          {s.state !== 'ok' && (
            <span className={`pill tool-${s.state}`} data-testid="tool-status">
              {STATE_LABEL[s.state]}
            </span>
          )}
        </summary>
        <div className="action-body">
          {action.command?.cwd && <div className="muted small">in {action.command.cwd}</div>}
          {s.output ? (
            <pre className="output" data-testid="action-output">
              {s.output}
            </pre>
          ) : (
            !isLive && <p className="muted small">{s.state === 'running' ? 'No output yet.' : 'No output.'}</p>
          )}
          {action.call && (
            <details className="tool-input">
              <summary>
                Input
                {action.call.nativeTool && action.call.nativeTool !== action.call.tool
                  ? ` (${action.call.nativeTool})`
                  : ''}
              </summary>
              <pre className="code">{formatJson(action.call.input)}</pre>
            </details>
          )}
        </div>
      </details>
      {isLive && (
        <pre className="output live" data-testid="live-output" aria-live="off">
          {liveOutput}
        </pre>
      )}
    </div>
  );
}

/** "Edited src/a.ts +12 −3", opening onto the diff: as plain text until the viewer has loaded, then as a table. */
export function FileChange({ item }: { item: ItemOf<'file_change'> }) {
  const stats = useMemo(() => diffStats(item.diff), [item.diff]);
  const [opened, setOpened] = useState(false);
  const plain = <DiffBlock diff={item.diff} />;
  return (
    <div className="action action-ok" data-testid="file-change">
      <details onToggle={(e) => e.currentTarget.open && setOpened(true)}>
        <summary>
          <span className="action-verb">Edited</span> <code className="action-target">{item.path}</code>
          {stats && (
            <span className="action-meta diff-stats" data-testid="diff-stats">
              <span aria-hidden="true">
                <span className="diff-stats-add">+{stats.added}</span>{' '}
                <span className="diff-stats-del">−{stats.removed}</span>
              </span>
              <span className="sr-only">{describeDiffStats(stats)}</span>
            </span>
          )}
        </summary>
        <div className="action-body">
          {opened ? (
            <Suspense fallback={plain}>
              <DiffView diff={item.diff} path={item.path} />
            </Suspense>
          ) : (
            plain
          )}
        </div>
      </details>
    </div>
  );
}
