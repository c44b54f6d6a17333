import { ArrowUp, File, Folder, MessageSquare, Plus } from 'lucide-react';

/*
 * The files panel's icons, from lucide. Decorative, so hidden from screen readers; `data-icon` says which is which
 * (the browser tests read it).
 */

export function FolderIcon() {
  return <Folder aria-hidden="true" size={16} className="flex-none text-accent" data-icon="folder" />;
}

export function FileIcon() {
  return <File aria-hidden="true" size={16} className="flex-none text-muted" data-icon="file" />;
}

export function CommentIcon() {
  return <MessageSquare aria-hidden="true" size={12} className="flex-none text-muted" data-icon="comment" />;
}

export function PlusIcon() {
  return <Plus aria-hidden="true" size={12} strokeWidth={2.5} data-icon="plus" />;
}

export function UpIcon() {
  return <ArrowUp aria-hidden="true" size={14} data-icon="up" />;
}
