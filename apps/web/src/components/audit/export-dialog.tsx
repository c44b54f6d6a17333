'use client';

import { AuditExportFormat, Uuid, type AuditExportView, type CreateAuditExportBody } from '@yoke/protocol';
import { Dialog } from 'radix-ui';
import { useEffect, useState, type FormEvent } from 'react';
import { createAuditExport, exportDownloadPath, fetchAuditExport, fetchExportFile } from '@/components/audit/audit-api';
import { toIso, toLocalInput, type AuditFilter } from '@/components/audit/audit-log';
import { DialogCloseButton, DialogPanel } from '@/components/ui/dialog';
import { describeError } from '@/lib/api';
import { readToken } from '@/lib/token';

const POLL_MS = 800;
/** A field's label above its control. */
const FIELD = 'grid gap-0.5 [&>span]:text-sm [&>span]:text-muted';

const FORMAT_LABEL: Record<AuditExportFormat, string> = {
  jsonl: 'JSON Lines (events.jsonl)',
  csv: 'CSV (events.csv)',
  ocsf: 'OCSF 1.3 (events.ocsf.jsonl)',
};

type Draft = { format: AuditExportFormat; from: string; to: string; sessionId: string; actor: string };

const draftOf = (f: AuditFilter): Draft => ({
  format: 'jsonl',
  from: toLocalInput(f.from),
  to: toLocalInput(f.to),
  sessionId: f.sessionId,
  actor: f.actor,
});

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** Saves a file the browser already holds under `name`. */
function saveFile(href: string, name?: string) {
  const a = document.createElement('a');
  a.href = href;
  a.download = name ?? '';
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
}

/**
 * The export dialog: format, time range, session and actor (prefilled from the timeline's filters). The server
 * writes one self-contained, verifiable bundle (.tar.gz) as a job; the dialog shows its progress, then a Download
 * button. A Radix modal dialog: focus stays inside, Esc closes it, focus returns to the button that opened it. The
 * export keeps running (and its state is kept) while the dialog is closed.
 */
export function ExportDialog({ filter }: { filter: AuditFilter }) {
  const [isOpen, setIsOpen] = useState(false);
  const [draft, setDraft] = useState<Draft>(() => draftOf(filter));
  const [job, setJob] = useState<AuditExportView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [isStarting, setIsStarting] = useState(false);
  const [isDownloading, setIsDownloading] = useState(false);

  const isRunning = job?.status === 'queued' || job?.status === 'running';
  const jobId = job?.id;
  useEffect(() => {
    if (!jobId || !isRunning) return;
    const ctrl = new AbortController();
    const timer = setTimeout(() => {
      fetchAuditExport(jobId, ctrl.signal).then(setJob, (err: unknown) => {
        if (!ctrl.signal.aborted) setError(describeError(err));
      });
    }, POLL_MS);
    return () => {
      clearTimeout(timer);
      ctrl.abort();
    };
  }, [jobId, isRunning, job]);

  const setOpen = (isNowOpen: boolean) => {
    if (isNowOpen && !isRunning) {
      setDraft(draftOf(filter));
      setError(null);
      if (job?.status !== 'done') setJob(null);
    }
    setIsOpen(isNowOpen);
  };

  const set = (k: keyof Draft) => (e: { target: { value: string } }) =>
    setDraft((d) => ({ ...d, [k]: e.target.value }));

  const start = (e: FormEvent) => {
    e.preventDefault();
    const sessionId = draft.sessionId.trim().toLowerCase();
    if (sessionId && !Uuid.safeParse(sessionId).success) {
      setError('A session id is a UUID.');
      return;
    }
    const from = toIso(draft.from);
    const to = toIso(draft.to);
    if (from && to && from > to) {
      setError('The start of the range is after its end.');
      return;
    }
    const body: CreateAuditExportBody = {
      format: draft.format,
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
      ...(sessionId ? { sessionId } : {}),
      ...(draft.actor.trim() ? { actor: draft.actor.trim() } : {}),
    };
    setError(null);
    setIsStarting(true);
    createAuditExport(body).then(
      (view) => {
        setJob(view);
        setIsStarting(false);
      },
      (err: unknown) => {
        setError(describeError(err));
        setIsStarting(false);
      },
    );
  };

  const download = () => {
    if (!job) return;
    // A browser session's cookie authenticates a plain link, and the file streams to disk; an API token cannot
    // ride on a link, so then the file is fetched with it and saved from memory.
    if (!readToken()) {
      saveFile(exportDownloadPath(job.id));
      return;
    }
    setIsDownloading(true);
    fetchExportFile(job.id).then(
      ({ blob, name }) => {
        const url = URL.createObjectURL(blob);
        saveFile(url, name);
        setTimeout(() => URL.revokeObjectURL(url), 10_000);
        setIsDownloading(false);
      },
      (err: unknown) => {
        setError(describeError(err));
        setIsDownloading(false);
      },
    );
  };

  const percent = job ? Math.round(job.progress * 100) : 0;
  return (
    <Dialog.Root open={isOpen} onOpenChange={setOpen}>
      <Dialog.Trigger data-testid="audit-export-open">Export…</Dialog.Trigger>
      <DialogPanel title="Export the audit log" headerAction={<DialogCloseButton />} data-testid="audit-export">
        <p className="muted small">
          One self-contained bundle: the events, the signed checkpoints that cover them, inclusion and consistency
          proofs, the public keys and a manifest. Check it offline with <code>yoke audit verify FILE</code>.
        </p>
        {error && (
          <p className="banner banner-error" role="alert" data-testid="audit-export-error">
            {error}
          </p>
        )}
        <form className="grid grid-cols-[repeat(auto-fill,minmax(220px,1fr))] gap-x-2.5 gap-y-2" onSubmit={start}>
          <label className={FIELD}>
            <span>Format</span>
            <select
              value={draft.format}
              onChange={(e) => setDraft((d) => ({ ...d, format: e.target.value as AuditExportFormat }))}
              disabled={isRunning}
              data-testid="audit-export-format"
            >
              {AuditExportFormat.options.map((f) => (
                <option key={f} value={f}>
                  {FORMAT_LABEL[f]}
                </option>
              ))}
            </select>
          </label>
          <label className={FIELD}>
            <span>From</span>
            <input type="datetime-local" step={1} value={draft.from} onChange={set('from')} disabled={isRunning} />
          </label>
          <label className={FIELD}>
            <span>To</span>
            <input type="datetime-local" step={1} value={draft.to} onChange={set('to')} disabled={isRunning} />
          </label>
          <label className={FIELD}>
            <span>Session id</span>
            <input
              value={draft.sessionId}
              onChange={set('sessionId')}
              placeholder="all sessions"
              autoComplete="off"
              spellCheck={false}
              disabled={isRunning}
            />
          </label>
          <label className={FIELD}>
            <span>Actor id</span>
            <input
              value={draft.actor}
              onChange={set('actor')}
              placeholder="all actors"
              autoComplete="off"
              spellCheck={false}
              disabled={isRunning}
            />
          </label>
          <div className="col-span-full flex justify-end max-sm:[&>button]:flex-1">
            <button type="submit" disabled={isStarting || isRunning} data-testid="audit-export-start">
              {job?.status === 'done' || job?.status === 'failed' ? 'Start another export' : 'Start export'}
            </button>
          </div>
        </form>
        {job && (
          <div
            className="mt-3 grid gap-2 border-t border-border pt-2.5"
            data-testid="audit-export-job"
            data-status={job.status}
          >
            <p className="m-0" role="status" aria-live="polite">
              {job.status === 'queued' && 'Queued…'}
              {job.status === 'running' && `Exporting… ${percent}% (${job.events.toLocaleString()} events)`}
              {job.status === 'done' &&
                `Ready: ${job.events.toLocaleString()} events${job.bytes !== null ? `, ${formatBytes(job.bytes)}` : ''}.`}
              {job.status === 'failed' && `The export failed: ${job.error ?? 'no reason given'}.`}
            </p>
            {isRunning && (
              <progress
                className="h-3.5 w-full accent-accent"
                max={1}
                value={job.progress}
                aria-label="Export progress"
                data-testid="audit-export-progress"
              >
                {percent}%
              </progress>
            )}
            {job.status === 'done' && (
              <button type="button" onClick={download} disabled={isDownloading} data-testid="audit-export-download">
                {isDownloading ? 'Downloading…' : 'Download (.tar.gz)'}
              </button>
            )}
          </div>
        )}
      </DialogPanel>
    </Dialog.Root>
  );
}
