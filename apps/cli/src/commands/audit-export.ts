import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { SingleBar } from 'cli-progress';
import {
  API_PREFIX,
  AuditExportView,
  type AuditExportFormat,
  type CreateAuditExportBody,
  type ErrorBody,
} from '@yoke/protocol';
import { ApiClient, ApiError } from '../api-client';
import { resolveServer, resolveToken } from '../server-discovery';

export interface AuditExportOptions {
  from?: string;
  to?: string;
  session?: string;
  actor?: string;
  format?: string;
  out: string;
  server?: string;
  home?: string;
}

const POLL_MS = 300;

/**
 * `yoke audit export …`: asks the server for a bundle, shows the job's progress (a bar on a terminal), then
 * downloads it to --out. The bundle is checked with `yoke audit verify FILE`, which needs no server.
 */
export async function auditExportCommand(opts: AuditExportOptions): Promise<number> {
  const api = new ApiClient(resolveServer(opts.server, opts.home), resolveToken());
  const body: CreateAuditExportBody = {
    format: (opts.format ?? 'jsonl') as AuditExportFormat,
    ...(opts.from ? { from: isoOf(opts.from, '--from') } : {}),
    ...(opts.to ? { to: isoOf(opts.to, '--to') } : {}),
    ...(opts.session ? { sessionId: opts.session } : {}),
    ...(opts.actor ? { actor: opts.actor } : {}),
  };
  const out = resolve(opts.out);
  const done = await exportBundle(api, body, out, process.stderr.isTTY === true);
  process.stdout.write(`wrote ${done.events} events (${done.bytes} bytes) to ${out}\n`);
  return 0;
}

/** Requests an export, waits for it with progress, downloads it to `out`. */
export async function exportBundle(
  api: ApiClient,
  body: CreateAuditExportBody,
  out: string,
  showBar: boolean,
): Promise<AuditExportView> {
  let view = await api.request('POST', '/audit/exports', AuditExportView, body);
  const bar = showBar
    ? new SingleBar({ format: 'exporting [{bar}] {percentage}% | {value} events', hideCursor: true })
    : null;
  bar?.start(100, 0);
  try {
    while (view.status === 'queued' || view.status === 'running') {
      await new Promise((r) => setTimeout(r, POLL_MS));
      view = await api.request('GET', `/audit/exports/${view.id}`, AuditExportView);
      bar?.update(Math.round(view.progress * 100), { value: view.events });
    }
  } finally {
    bar?.stop();
  }
  if (view.status === 'failed') throw new Error(`the export failed: ${view.error ?? 'unknown error'}`);
  await download(api, `/audit/exports/${view.id}/download`, out);
  return view;
}

async function download(api: ApiClient, path: string, out: string): Promise<void> {
  const res = await fetch(`${api.server}${API_PREFIX}${path}`, { headers: api.authHeaders() });
  if (!res.ok || !res.body) {
    const text = await res.text();
    throw new ApiError(res.status, errorBodyOf(text));
  }
  await pipeline(Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), createWriteStream(out, { mode: 0o600 }));
}

/**
 * `yoke audit verify --server URL`: the live log of the caller's org, exported whole and checked like any bundle
 * against its latest signed checkpoint (pin the keys with --key to not trust the server's own list).
 */
export async function withLiveBundle<T>(
  opts: { server?: string; home?: string },
  check: (file: string) => Promise<T>,
): Promise<T> {
  const api = new ApiClient(resolveServer(opts.server, opts.home), resolveToken());
  const dir = mkdtempSync(join(tmpdir(), 'yoke-audit-'));
  try {
    const file = join(dir, 'live.tar.gz');
    await exportBundle(api, { format: 'jsonl' }, file, process.stderr.isTTY === true);
    return await check(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function errorBodyOf(text: string): ErrorBody | null {
  try {
    return JSON.parse(text) as ErrorBody;
  } catch {
    return null;
  }
}

function isoOf(value: string, flag: string): string {
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new Error(`${flag}: not a date or time: ${value}`);
  return new Date(t).toISOString();
}
