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

/**
 * A command's exit code as the agent reports it: `rawOutput.exitCode` / `exit_code` / `metadata.exit` (OpenCode), or
 * an "Exit Code: N" line in its output; null when the agent says nothing about it.
 */
export function exitCodeOf(rawOutput: unknown, output: string): number | null {
  const raw = record(rawOutput);
  for (const value of [raw.exitCode, raw.exit_code, record(raw.metadata).exit, raw.exit]) {
    if (typeof value === 'number' && Number.isInteger(value)) return value;
  }
  const line = /^Exit Code: (-?\d+)\s*$/m.exec(output);
  return line ? Number(line[1]) : null;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
