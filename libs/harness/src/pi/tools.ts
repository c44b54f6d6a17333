import type { ToolKind } from '@yoke/protocol';

const KINDS: Record<string, ToolKind> = {
  bash: 'shell',
  read: 'file_read',
  write: 'file_write',
  edit: 'file_edit',
  grep: 'search',
  find: 'file_list',
  ls: 'file_list',
};

/** Pi's tool names (lowercase, case-sensitive: Pi itself rejects `Bash`) to canonical kinds. */
export function piToolKind(name: string): ToolKind {
  return Object.hasOwn(KINDS, name) ? KINDS[name] : `other:${name || 'unknown'}`;
}

/** The Pi tools an agent's `tools:` allows. */
export function piToolNames(tools: { shell: boolean; files: boolean }): string[] {
  return [...(tools.shell ? ['bash'] : []), ...(tools.files ? ['read', 'write', 'edit', 'grep', 'find', 'ls'] : [])];
}

/** Pi's bash tool ends a failing command's output with "Command exited with code N". */
export function piExitCode(output: string, isError: boolean): number | null {
  const match = /Command exited with code (\d+)\s*$/.exec(output);
  if (match) return Number(match[1]);
  return isError ? null : 0;
}

/** The path argument of Pi's file tools. */
export function piToolPath(args: unknown): string | null {
  if (typeof args !== 'object' || args === null) return null;
  const { path } = args as { path?: unknown };
  return typeof path === 'string' && path ? path : null;
}
