'use client';

import type { HarnessName, Session, WorkspaceListing } from '@yoke/protocol';
import { useRouter } from 'next/navigation';
import { Dialog } from 'radix-ui';
import { useEffect, useState, type FormEvent } from 'react';
import { FileIcon, FolderIcon } from '@/components/files/icons';
import { DialogPanel } from '@/components/ui/dialog';
import { describeError } from '@/lib/api';
import { forkSession, listFiles } from '@/lib/collab-api';

const FORK_HARNESSES: HarnessName[] = ['yoke', 'claude-code', 'codex', 'pi', 'claude-sdk', 'openai-agents'];
/** Top-level entries named in the dialog before "and N more". */
const SHOWN_ENTRIES = 8;

const WORKSPACE = 'mb-3 rounded-sm border border-border bg-code-bg px-2.5 py-2 text-[14px] [&_p]:my-1';

type Preview = { state: 'loading' } | { state: 'ok'; listing: WorkspaceListing } | { state: 'error'; message: string };

/** What the fork's workspace will hold, as the dialog says it (the runner does the copy when the fork starts). */
function WorkspaceNote({ preview, seq, lastSeq }: { preview: Preview; seq: number; lastSeq: number }) {
  if (preview.state === 'loading') {
    return (
      <div className={WORKSPACE} data-testid="fork-workspace" data-copy="loading">
        <strong>Workspace</strong> <span className="muted">Reading the workspace…</span>
      </div>
    );
  }
  if (preview.state === 'error') {
    return (
      <div className={WORKSPACE} data-testid="fork-workspace" data-copy="none">
        <strong>Workspace</strong>
        <p className="small">Not copied: {preview.message} The fork starts with an empty workspace of its own.</p>
      </div>
    );
  }
  const { entries, isGitRepo } = preview.listing;
  const rest = entries.length - SHOWN_ENTRIES;
  return (
    <div className={WORKSPACE} data-testid="fork-workspace" data-copy={isGitRepo ? 'git' : 'copy'}>
      <strong>Workspace</strong>
      <p className="small">
        {isGitRepo
          ? 'A git repository: the fork gets its own clone on a branch of its own (yoke/fork-…), at the same commit, with uncommitted changes and untracked files copied as they are.'
          : 'Copied into a workspace of the fork’s own, every file and folder as it is.'}{' '}
        {seq < lastSeq && `Files are copied as they are now, including changes made after #${seq}.`}
      </p>
      {entries.length === 0 ? (
        <p className="muted small">The workspace is empty.</p>
      ) : (
        <ul
          className="mt-1 mb-0 flex list-none flex-wrap gap-x-3.5 gap-y-1 p-0 font-mono text-sm"
          aria-label="Copied to the fork"
          data-testid="fork-workspace-entries"
        >
          {entries.slice(0, SHOWN_ENTRIES).map((e) => (
            <li key={e.path} className="inline-flex items-center gap-1">
              {e.kind === 'dir' ? <FolderIcon /> : <FileIcon />} {e.name}
              {e.kind === 'dir' ? '/' : ''}
            </li>
          ))}
          {rest > 0 && <li className="muted">and {rest} more</li>}
        </ul>
      )}
    </div>
  );
}

/**
 * Fork from an item: a new session of the forker with the conversation up to that item (numbered as the timeline
 * shows it) and, on the original's runner, a copy of its workspace, which the dialog lists before anything happens.
 * A Radix modal dialog (Esc closes it, focus stays inside and returns to the item's Fork button), loaded and opened by
 * ForkDialog.
 */
export function ForkPanel({
  sessionId,
  session,
  seq,
  isOpen,
  onOpenChange,
}: {
  isOpen: boolean;
  onOpenChange: (isOpen: boolean) => void;
  sessionId: string;
  session: Session | null;
  /** The item forked from; null before a fork was asked for. */
  seq: number | null;
}) {
  const router = useRouter();
  const [model, setModel] = useState('');
  const [harness, setHarness] = useState<HarnessName | ''>('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [preview, setPreview] = useState<Preview>({ state: 'loading' });

  useEffect(() => {
    if (seq === null) return;
    let isCurrent = true;
    setError(null);
    setPreview({ state: 'loading' });
    listFiles(sessionId, '').then(
      (listing) => isCurrent && setPreview({ state: 'ok', listing }),
      (err: unknown) => isCurrent && setPreview({ state: 'error', message: describeError(err) }),
    );
    return () => {
      isCurrent = false;
    };
  }, [sessionId, seq]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (seq === null) return;
    setBusy(true);
    try {
      const fork = await forkSession(sessionId, {
        seq,
        ...(harness ? { harness } : {}),
        ...(model.trim() ? { model: model.trim() } : {}),
      });
      onOpenChange(false);
      router.push(`/session/?id=${fork.id}`);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog.Root open={isOpen} onOpenChange={onOpenChange}>
      <DialogPanel title={`Fork from #${seq}`} data-testid="fork-dialog">
        <form onSubmit={(e) => void submit(e)}>
          <p className="muted small">
            A new session of yours with the conversation up to{' '}
            <a href={`#item-${seq}`} onClick={() => onOpenChange(false)}>
              #{seq}
            </a>{' '}
            in the timeline. The original stays as it is.
          </p>
          {seq !== null && <WorkspaceNote preview={preview} seq={seq} lastSeq={session?.lastSeq ?? seq} />}
          <label className="field">
            <span>Harness</span>
            <select
              value={harness}
              onChange={(e) => setHarness(FORK_HARNESSES.find((h) => h === e.target.value) ?? '')}
              data-testid="fork-harness"
            >
              <option value="">Same as the original ({session?.harness ?? '…'})</option>
              {FORK_HARNESSES.map((h) => (
                <option key={h}>{h}</option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Model (optional)</span>
            <input
              value={model}
              onChange={(e) => setModel(e.target.value)}
              placeholder={session?.model ?? 'same model'}
              data-testid="fork-model"
            />
          </label>
          {error && (
            <p className="banner banner-error" role="alert">
              {error}
            </p>
          )}
          <div className="form-row">
            <button type="submit" disabled={busy} data-testid="fork-submit">
              Fork
            </button>
            <Dialog.Close className="secondary">Cancel</Dialog.Close>
          </div>
        </form>
      </DialogPanel>
    </Dialog.Root>
  );
}
