'use client';

import type { WorkspaceListing } from '@yoke/protocol';
import { openThreadsFor } from '@/components/files/comment-counts';
import { CommentIcon, FileIcon, FolderIcon, UpIcon } from '@/components/files/icons';

/** One folder of the workspace: its entries (folders first) with SVG icons and each one's open comment threads. */
export function FileTree({
  dir,
  listing,
  openPath,
  countByPath,
  onDir,
  onFile,
}: {
  dir: string;
  listing: WorkspaceListing | null;
  openPath: string | null;
  countByPath: Map<string, number>;
  onDir(path: string): void;
  onFile(path: string): void;
}) {
  return (
    <nav aria-label="Workspace files">
      <div className="flex min-w-0 items-center justify-between gap-2">
        <strong className="truncate font-mono text-sm" title={dir || 'Workspace'}>
          {dir || 'Workspace'}
        </strong>
        {dir && (
          <button
            type="button"
            className="inline-flex min-h-7 items-center gap-1 bg-transparent px-2 py-0.5 font-medium text-accent"
            onClick={() => onDir(dir.split('/').slice(0, -1).join('/'))}
            aria-label="Up one folder"
          >
            <UpIcon /> Up
          </button>
        )}
      </div>
      <ul className="mt-1 mb-0 list-none p-0" data-testid="file-list">
        {listing?.entries.map((e) => {
          const count = openThreadsFor(e, countByPath);
          return (
            <li
              key={e.path}
              className={`flex items-center gap-1.5 rounded-sm hover:bg-code-bg ${e.path === openPath ? 'bg-code-bg' : ''}`}
            >
              <button
                type="button"
                className={`flex min-h-[30px] min-w-0 flex-1 items-center gap-2 border-none bg-transparent px-2 py-0.5 text-left text-fg ${e.path === openPath ? 'font-semibold' : 'font-normal'}`}
                onClick={() => (e.kind === 'dir' ? onDir(e.path) : onFile(e.path))}
                data-testid="file-entry"
                data-path={e.path}
                data-kind={e.kind}
                aria-current={e.path === openPath ? 'true' : undefined}
              >
                {e.kind === 'dir' ? <FolderIcon /> : <FileIcon />}
                <span className="truncate">{e.name}</span>
              </button>
              {count > 0 && (
                <span
                  className="mr-1.5 inline-flex items-center gap-[3px] rounded-full bg-warn-bg px-[7px] text-xs/5 font-semibold"
                  title={`${count} open comment thread${count === 1 ? '' : 's'}${e.kind === 'dir' ? ' inside' : ''}`}
                  data-testid={e.kind === 'dir' ? 'folder-comment-count' : 'file-comment-count'}
                >
                  <CommentIcon />
                  {count}
                </span>
              )}
            </li>
          );
        })}
        {listing && listing.entries.length === 0 && <li className="muted small">Empty.</li>}
        {listing?.truncated && <li className="muted small">More entries than shown.</li>}
      </ul>
    </nav>
  );
}
