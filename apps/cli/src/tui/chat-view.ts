import type { ReactNode } from 'react';
import type { Key } from 'ink' with { 'resolution-mode': 'import' };
import type { ChatController } from './chat-controller';
import {
  type ApprovalEntry,
  type ChatState,
  committedCount,
  type Entry,
  pendingApproval,
  type ToolEntry,
  usageTotals,
} from './chat-state';
import type { ChatStore } from './chat-store';
import { renderDiff } from './diff-render';
import {
  formatCost,
  formatTokens,
  hardWrap,
  hardWrapTail,
  outputPreview,
  TOOL_ICONS,
  toolLine,
  type ToolStatus,
} from './format';
import { truncate } from './ansi';
import { withIncompleteMark } from './incomplete-mark';
import type { Ink, React } from './ink-loader';
import { renderMarkdown } from './markdown';
import { applyEditorEvent, cursorPosition, editorEvent, type EditorState, emptyEditor } from './prompt-editor';

export interface ChatViewProps {
  store: ChatStore;
  controller: ChatController;
}

const STATUS_COLORS: Record<ToolStatus, string> = {
  running: 'yellow',
  ok: 'green',
  failed: 'red',
  denied: 'red',
  cancelled: 'gray',
};
const SPINNER = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
const SPINNER_STEP_MS = 100;
/** Lines of a tool call's output shown under it (Ctrl-O shows all). */
const PREVIEW_LINES = 3;

/** The terminal UI's components, made from the Ink and React modules loaded at run time (see ink-loader.ts). */
export function createChatView(ink: Ink, react: React): (props: ChatViewProps) => ReactNode {
  const { Box, Static, Text, useInput, useStdout } = ink;
  const { createElement: h, useEffect, useReducer, useRef, useState, useSyncExternalStore } = react;
  type Row = Entry | { kind: 'header'; key: string };
  const StaticRows = Static as (props: { items: Row[]; children: (row: Row, index: number) => ReactNode }) => ReactNode;

  function useColumns(): { columns: number; rows: number } {
    const { stdout } = useStdout();
    const [size, setSize] = useState({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
    useEffect(() => {
      const onResize = () => setSize({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
      stdout.on('resize', onResize);
      return () => {
        stdout.off('resize', onResize);
      };
    }, [stdout]);
    return size;
  }

  /**
   * The spinner while a turn runs, a step every `SPINNER_STEP_MS` by the clock. Every frame redraws the whole live
   * area (a streaming answer's tail fills the screen): while frames come anyway (chunks, keys) the spinner moves with
   * them, and its timer draws a frame of its own only when nothing else was drawn for half a step.
   */
  function useSpinner(isActive: boolean): string {
    const [, redraw] = useReducer((n: number) => n + 1, 0);
    const drawnAt = useRef(0);
    // Written while rendering on purpose: the time of the last frame, whatever caused it (no effect to flush).
    drawnAt.current = Date.now();
    useEffect(() => {
      if (!isActive) return;
      const t = setInterval(() => {
        if (Date.now() - drawnAt.current >= SPINNER_STEP_MS / 2) redraw();
      }, SPINNER_STEP_MS);
      return () => clearInterval(t);
    }, [isActive]);
    return SPINNER[Math.floor(Date.now() / SPINNER_STEP_MS) % SPINNER.length];
  }

  function ToolView({ entry, width }: { entry: ToolEntry; width: number }) {
    const elapsed = (entry.endedAt ?? Date.now()) - entry.startedAt;
    const line = toolLine(
      { tool: entry.tool, summary: entry.summary, status: entry.status, elapsedMs: elapsed, exitCode: entry.exitCode },
      width,
    );
    const icon = TOOL_ICONS[entry.status];
    const preview = outputPreview(entry.output, PREVIEW_LINES, width - 4);
    return h(
      Box,
      { flexDirection: 'column', marginTop: 1 },
      h(Text, null, h(Text, { color: STATUS_COLORS[entry.status] }, icon), line.slice(icon.length)),
      ...preview.lines.map((l, i) => h(Text, { key: i, dimColor: true }, `${i === 0 ? '  ⎿ ' : '    '}${l}`)),
      preview.hidden > 0
        ? h(Text, { dimColor: true }, truncate(`    … +${preview.hidden} lines (Ctrl-O to expand)`, width))
        : null,
    );
  }

  function ApprovalView({ entry, width }: { entry: ApprovalEntry; width: number }) {
    const head = truncate(`? approval needed · ${entry.policy}`, width);
    const reason = hardWrap(entry.reason, width - 2).map((l) => `  ${l}`);
    if (!entry.done) {
      return h(
        Box,
        { flexDirection: 'column', marginTop: 1 },
        h(Text, { color: 'yellow', bold: true }, head),
        h(Text, null, reason.join('\n')),
      );
    }
    const by = entry.decidedBy ? ` by ${entry.decidedBy}` : '';
    const outcome: Record<string, [string, string]> = {
      approve: ['green', `✓ approved${by}`],
      approve_session: ['green', `✓ approved for this session${by}`],
      deny: ['red', `✗ denied${by}`],
      timeout: ['red', '✗ nobody answered in time'],
      cancelled: ['gray', '■ cancelled with the turn'],
      expired: ['gray', '■ no longer asked'],
    };
    const [color, text] = outcome[entry.decision ?? 'expired'] ?? ['gray', `${entry.decision}${by}`];
    return h(
      Box,
      { flexDirection: 'column', marginTop: 1 },
      h(Text, { dimColor: true }, head),
      h(Text, { dimColor: true }, reason.join('\n')),
      h(Text, { color }, truncate(`  ${text}`, width)),
    );
  }

  function EntryView({ entry, width, maxLines }: { entry: Entry; width: number; maxLines?: number }) {
    switch (entry.kind) {
      case 'user': {
        const prefix = entry.isMine ? '› ' : `${entry.author} › `;
        return h(
          Box,
          { marginTop: 1 },
          h(Text, null, h(Text, { color: entry.isMine ? 'cyan' : 'magenta', bold: true }, prefix), entry.text),
        );
      }
      case 'agent': {
        let body: string;
        if (entry.done) {
          body = renderMarkdown(entry.text, width - 2);
        } else {
          const lines =
            maxLines === undefined ? hardWrap(entry.text, width - 2) : hardWrapTail(entry.text, width - 2, maxLines);
          body = lines.join('\n');
        }
        body = withIncompleteMark(body, entry.isPartial);
        return h(
          Box,
          { marginTop: 1 },
          h(Box, { width: 2, flexShrink: 0 }, h(Text, { color: 'white' }, '●')),
          h(Box, { width: width - 2 }, h(Text, null, body)),
        );
      }
      case 'reasoning': {
        const lines = hardWrap(entry.text.trim(), width - 2);
        const shown = lines.slice(0, 3).join('\n') + (lines.length > 3 ? ` …` : '');
        return h(Box, { marginTop: 1 }, h(Text, { dimColor: true, italic: true }, `✻ ${shown}`));
      }
      case 'tool':
        return h(ToolView, { entry, width });
      case 'diff': {
        const d = renderDiff(entry.path, entry.diff, width);
        return h(
          Box,
          { flexDirection: 'column', marginTop: 1 },
          h(Text, null, d.header),
          h(Text, null, d.lines.join('\n')),
          d.hidden ? h(Text, { dimColor: true }, `    … +${d.hidden} lines`) : null,
        );
      }
      case 'approval':
        return h(ApprovalView, { entry, width });
      case 'note': {
        const styles = {
          info: { color: undefined, mark: '·' },
          dim: { color: 'gray', mark: '·' },
          warning: { color: 'yellow', mark: '!' },
          error: { color: 'red', mark: '✗' },
        }[entry.level];
        return h(Box, { marginTop: 1 }, h(Text, { color: styles.color }, `${styles.mark} ${entry.text}`));
      }
      case 'block':
        return h(
          Box,
          { flexDirection: 'column', marginTop: 1 },
          h(Text, { bold: true }, truncate(entry.title, width)),
          h(
            Text,
            null,
            hardWrap(entry.text, width - 2)
              .map((l) => `  ${l}`)
              .join('\n'),
          ),
        );
    }
  }

  function PromptView({ editor, width, state }: { editor: EditorState; width: number; state: ChatState }) {
    const isViewer = state.access !== null && !state.access.canDrive;
    const { lines, line, col } = cursorPosition(editor);
    const placeholder = isViewer
      ? `read-only: you are a ${state.access?.role ?? 'viewer'} · /help · /exit`
      : 'Type a message · Enter to send · /help';
    const rows = lines.map((text, i) => {
      const prefix = i === 0 ? '› ' : '  ';
      if (i !== line) return h(Text, { key: i }, prefix, text);
      const at = text[col] ?? ' ';
      return h(
        Text,
        { key: i },
        prefix,
        text.slice(0, col),
        h(Text, { inverse: true }, at),
        text.slice(col + 1),
        !editor.text ? h(Text, { dimColor: true }, truncate(placeholder, Math.max(0, width - 8))) : null,
      );
    });
    return h(Box, { flexDirection: 'column', borderStyle: 'round', borderColor: 'gray', width, paddingX: 1 }, ...rows);
  }

  function StatusLine({ state, width }: { state: ChatState; width: number }) {
    const s = state.session;
    const usage = usageTotals(state);
    const me = state.access?.actor.id;
    const others = state.viewers.filter((v) => v.actor.id !== me).map((v) => v.actor.name);
    const harness = state.nextHarness ? `${s?.harness ?? '?'}→${state.nextHarness}` : (s?.harness ?? '…');
    const modelNow = s?.model ?? s?.agent.model ?? 'default model';
    const model = state.nextModel ? `${modelNow}→${state.nextModel}` : modelNow;
    const parts = [
      harness,
      model,
      `${formatTokens(usage.inputTokens + usage.outputTokens)} tok`,
      formatCost(usage.costUsd),
      others.length ? `watching: ${others.join(', ')}` : '',
      state.access && !state.access.canDrive ? state.access.role : '',
    ].filter(Boolean);
    return h(Text, { dimColor: true }, truncate(parts.join(' · '), width));
  }

  return function ChatView({ store, controller }: ChatViewProps) {
    const state = useSyncExternalStore(store.subscribe, store.getState);
    const { columns, rows } = useColumns();
    const width = Math.max(20, columns - 1);
    const editorRef = useRef<EditorState>(emptyEditor());
    const [, redraw] = useReducer((n: number) => n + 1, 0);
    const spinner = useSpinner(state.isTurnRunning);
    const approval = pendingApproval(state);
    const canApprove = state.access?.canApprove ?? false;

    useInput(
      (input: string, key: Key) => {
        const editor = editorRef.current;
        // A key is drawn at once, with the chunks streamed since the last frame (see `ChatStore.typed`).
        const set = (next: EditorState) => {
          editorRef.current = next;
          store.typed();
          redraw();
        };
        if (key.ctrl && input === 'c') {
          if (controller.interrupt(editor.text === '') === 'clear') set(emptyEditor(editor.history));
          return;
        }
        if (key.ctrl && input === 'd') {
          if (!editor.text) controller.exit();
          return;
        }
        if (key.ctrl && input === 'o') return controller.expand();
        if (approval && canApprove && !editor.text && !editor.isPasting) {
          if (input === 'y') return void controller.decide(approval.approvalId, 'approve');
          if (input === 'n') return void controller.decide(approval.approvalId, 'deny');
          if (input === 'a' && approval.offersSession) {
            return void controller.decide(approval.approvalId, 'approve_session');
          }
        }
        const result = applyEditorEvent(editor, editorEvent(input, key, editor.isPasting));
        if (result.submitted === undefined) {
          if (result.state !== editor) set(result.state);
          return;
        }
        // The prompt goes out first; the cleared input line is drawn once the request is on its way.
        editorRef.current = result.state;
        void controller.submit(result.submitted);
        setImmediate(redraw);
      },
      { isActive: true },
    );

    const done = committedCount(state.entries);
    const committed = state.entries.slice(0, done);
    const live = state.entries.slice(done);
    // The live area is redrawn on every change: keep it within the screen (long streams show their last lines).
    const liveLines = Math.max(4, rows - 10);
    const header = state.session
      ? `${state.session.title || state.session.agent.name} · ${state.session.id}`
      : controller.sessionId;

    return h(
      Box,
      { flexDirection: 'column', width },
      h(StaticRows, {
        key: controller.sessionId,
        // The header prints once the session is known (the first items only come after it).
        items: state.session ? [{ kind: 'header', key: 'header' }, ...committed] : committed,
        children: (row: Row) =>
          row.kind === 'header'
            ? h(Text, { key: 'header', dimColor: true }, truncate(`yoke · ${header}`, width))
            : h(EntryView, { key: row.key, entry: row, width }),
      }),
      ...live.map((entry) => h(EntryView, { key: entry.key, entry, width, maxLines: liveLines })),
      state.isTurnRunning
        ? h(
            Box,
            { marginTop: 1 },
            h(
              Text,
              { color: 'yellow' },
              `${spinner} ${state.isCancelling ? 'cancelling…' : approval ? 'waiting for approval…' : 'working…'} `,
              h(Text, { dimColor: true }, state.isCancelling ? 'Ctrl-C again to leave' : 'Ctrl-C to cancel'),
            ),
          )
        : null,
      approval
        ? h(
            Box,
            { marginTop: 1 },
            h(
              Text,
              { color: 'yellow', bold: true },
              truncate(
                canApprove
                  ? `Approve? y yes · n no${approval.offersSession ? ' · a always (this session)' : ''}`
                  : 'waiting for someone who can approve…',
                width,
              ),
            ),
          )
        : null,
      h(Box, { marginTop: 1 }, h(PromptView, { editor: editorRef.current, width, state })),
      h(StatusLine, { state, width }),
    );
  };
}
