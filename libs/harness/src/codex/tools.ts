import { isAbsolute, relative } from 'node:path';
import { MAX_TEXT_CHARS, type ToolKind } from '@yoke/protocol';
import { clip, unifiedDiff } from '../yoke/diff';
import type { FileUpdateChange } from './protocol';

/**
 * Splits a POSIX shell command line into words (single quotes, double quotes, backslashes), as codex prints its
 * commands (`/bin/bash -lc 'echo hi > out.txt'`). Null when the quoting is unbalanced.
 */
export function splitShellWords(line: string): string[] | null {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && i + 1 < line.length && '"\\$`\n'.includes(line[i + 1])) word += line[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) return null;
  if (inWord) words.push(word);
  return words;
}

/** The argv of a codex command execution; a line that does not split cleanly is run by a shell, as codex would. */
export function codexCommandArgv(command: string): string[] {
  const words = splitShellWords(command);
  return words && words.length > 0 ? words : ['/bin/sh', '-c', command];
}

/** A patch that only adds files writes them; anything that updates, moves or deletes edits. */
export function codexFileChangeKind(changes: { kind: { type: string } }[]): ToolKind {
  return changes.length > 0 && changes.every((c) => c.kind.type === 'add') ? 'file_write' : 'file_edit';
}

/** `mcp:<server>/<tool>`, with characters the canonical form does not allow replaced by `_`. */
export function mcpToolKind(server: string, tool: string): ToolKind {
  const safe = (s: string): string => s.replace(/[^A-Za-z0-9_.-]/g, '_') || '_';
  return `mcp:${safe(server)}/${safe(tool)}`;
}

/** A path as shown to people: relative to the workspace when inside it. */
export function displayPath(workspace: string, path: string): string {
  if (!isAbsolute(path)) return path;
  const rel = relative(workspace, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/** A unified diff for one codex file change: adds carry the new content, updates a bare hunk, deletes nothing. */
export function codexChangeDiff(workspace: string, change: FileUpdateChange): { path: string; diff: string } {
  const path = displayPath(workspace, change.path);
  if (change.kind.type === 'add') return { path, diff: unifiedDiff(path, null, change.diff) };
  if (change.kind.type === 'delete') return { path, diff: `--- a/${path}\n+++ /dev/null\n` };
  const target = change.kind.move_path ? displayPath(workspace, change.kind.move_path) : path;
  const body = change.diff.startsWith('---') ? change.diff : `--- a/${path}\n+++ b/${target}\n${change.diff}`;
  return { path, diff: clip(body, MAX_TEXT_CHARS) };
}
