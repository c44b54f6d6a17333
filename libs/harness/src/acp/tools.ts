import { splitShellWords } from '../codex/tools';
import type { ToolKind } from '@yoke/protocol';

/** ACP's tool kinds to canonical kinds. ACP's `edit` covers creating a file too; `delete` and `move` edit the tree. */
const KINDS: Record<string, ToolKind> = {
  execute: 'shell',
  read: 'file_read',
  edit: 'file_edit',
  delete: 'file_edit',
  move: 'file_edit',
  search: 'search',
  fetch: 'web_fetch',
};

export function acpToolKind(kind: string | null | undefined): ToolKind {
  const name = kind || 'other';
  return Object.hasOwn(KINDS, name) ? KINDS[name] : `other:${name}`;
}

/** The agent command of `acp:<command>` as argv (shell-like quoting); null when it is empty or does not split. */
export function acpCommand(harness: string): string[] | null {
  if (!harness.startsWith('acp:')) return null;
  const words = splitShellWords(harness.slice(4).trim());
  return words && words.length > 0 ? words : null;
}
