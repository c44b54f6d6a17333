import { lstat, open, readdir, realpath } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import {
  type Ack,
  AppError,
  MAX_WORKSPACE_FILE_BYTES,
  type WorkspaceEntry,
  type WorkspaceFile,
  type WorkspaceListing,
  WorkspaceListRequest,
  WorkspaceReadRequest,
} from '@yoke/protocol';
import type { z } from 'zod';

/** Most entries one listing returns (sorted: directories first, then by name). */
export const MAX_LIST_ENTRIES = 2000;

type Reply<T> = (reply: Ack<T>) => void;
interface WorkspaceSocket {
  on(event: 'workspace.list', fn: (raw: unknown, ack: Reply<{ listing: WorkspaceListing }>) => void): unknown;
  on(event: 'workspace.read', fn: (raw: unknown, ack: Reply<{ file: WorkspaceFile }>) => void): unknown;
}

/**
 * Serves the files of this runner's session workspaces to the server (browse and view in the web UI): read-only,
 * confined to the workspace (symlinks that lead out of it are refused), files capped at MAX_WORKSPACE_FILE_BYTES.
 */
export function serveWorkspaceFiles(socket: WorkspaceSocket, workspaceOf: (sessionId: string) => string | null): void {
  socket.on('workspace.list', (raw, ack) => {
    void handle(WorkspaceListRequest, raw, async (req) => ({
      listing: await listWorkspace(root(workspaceOf, req.sessionId), req.path),
    })).then((r) => typeof ack === 'function' && ack(r));
  });
  socket.on('workspace.read', (raw, ack) => {
    void handle(WorkspaceReadRequest, raw, async (req) => ({
      file: await readWorkspaceFile(root(workspaceOf, req.sessionId), req.path),
    })).then((r) => typeof ack === 'function' && ack(r));
  });
}

export async function listWorkspace(workspace: string, path: string): Promise<WorkspaceListing> {
  const { base, target: dir } = await confine(workspace, path);
  const dirents = await readdir(dir, { withFileTypes: true }).catch(notFound);
  const entries: WorkspaceEntry[] = [];
  for (const d of dirents) {
    if (d.name === '.git') continue;
    const rel = toRel(base, join(dir, d.name));
    const kind = d.isDirectory() ? 'dir' : d.isFile() ? 'file' : 'other';
    const size = kind === 'file' ? ((await lstat(join(dir, d.name)).catch(() => null))?.size ?? 0) : 0;
    entries.push({ name: d.name, path: rel, kind, size });
  }
  entries.sort((a, b) =>
    (a.kind === 'dir') !== (b.kind === 'dir') ? (a.kind === 'dir' ? -1 : 1) : a.name.localeCompare(b.name),
  );
  const listing: WorkspaceListing = {
    path: toRel(base, dir),
    entries: entries.slice(0, MAX_LIST_ENTRIES),
    truncated: entries.length > MAX_LIST_ENTRIES,
  };
  return dir === base ? { ...listing, isGitRepo: dirents.some((d) => d.name === '.git') } : listing;
}

export async function readWorkspaceFile(workspace: string, path: string): Promise<WorkspaceFile> {
  const { base, target: file } = await confine(workspace, path);
  const info = await lstat(file).catch(notFound);
  if (!info.isFile()) throw new AppError('workspace.not_found', `${path} is not a file`);
  const handle = await open(file, 'r');
  try {
    const length = Math.min(info.size, MAX_WORKSPACE_FILE_BYTES);
    const buf = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buf, 0, length, 0);
    const bytes = buf.subarray(0, bytesRead);
    const isBinary = bytes.includes(0);
    return {
      path: toRel(base, file),
      size: info.size,
      content: isBinary ? '' : bytes.toString('utf8'),
      isBinary,
      truncated: info.size > bytesRead,
    };
  } finally {
    await handle.close();
  }
}

/** The real path of `rel` inside the workspace; anything that resolves outside it is "not found". */
async function confine(workspace: string, rel: string): Promise<{ base: string; target: string }> {
  const base = await realpath(workspace).catch(notFound);
  const target = await realpath(resolve(base, rel || '.')).catch(notFound);
  if (target !== base && !target.startsWith(base + sep)) {
    throw new AppError('workspace.not_found', 'no such file in the workspace');
  }
  return { base, target };
}

function toRel(base: string, abs: string): string {
  return relative(base, abs).split(sep).join('/');
}

function root(workspaceOf: (sessionId: string) => string | null, sessionId: string): string {
  const dir = workspaceOf(sessionId);
  if (!dir) throw new AppError('session.not_found', 'this runner does not hold that session');
  return dir;
}

function notFound(): never {
  throw new AppError('workspace.not_found', 'no such file in the workspace');
}

async function handle<S extends z.ZodType, T extends object>(
  schema: S,
  raw: unknown,
  run: (req: z.infer<S>) => Promise<T>,
): Promise<Ack<T>> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) return { ok: false, error: { code: 'request.invalid', message: 'malformed request' } };
  try {
    return { ok: true, ...(await run(parsed.data)) };
  } catch (err) {
    if (err instanceof AppError) return { ok: false, error: err.toBody() };
    return { ok: false, error: { code: 'internal', message: 'the runner could not read the workspace' } };
  }
}
