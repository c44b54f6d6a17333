import { redactText } from './redact';
import { analyzeShell, shellCommandText, type ShellAnalysis } from './shell';
import type { PolicyAction } from './types';

/**
 * One action as policies look at it, computed lazily and at most once per decision (the shell line is parsed once
 * however many policies read it).
 */
export class ActionView {
  private shellText: string | null | undefined;
  private shellAnalysis: ShellAnalysis | undefined;
  private subjectList: string[] | undefined;
  private pathList: string[] | undefined;
  private lineList: string[] | undefined;
  private summaryText: string | undefined;

  constructor(readonly action: PolicyAction) {}

  get isToolCall(): boolean {
    return this.action.type === 'tool_call';
  }

  get tool(): string {
    return this.action.type === 'tool_call' ? this.action.tool : '';
  }

  get isShell(): boolean {
    return this.action.type === 'tool_call' && this.action.tool === 'shell';
  }

  /** The command line of a shell call (an argv input is quoted back into one); null otherwise. */
  get command(): string | null {
    if (this.shellText === undefined) {
      this.shellText = this.action.type === 'tool_call' && this.isShell ? shellCommandText(this.action.input) : null;
    }
    return this.shellText;
  }

  get shell(): ShellAnalysis {
    if (!this.shellAnalysis) {
      const text = this.command;
      this.shellAnalysis = text === null ? { commands: [], error: null } : analyzeShell(text);
    }
    return this.shellAnalysis;
  }

  /** Each simple command of a shell call, its argv joined by spaces (index for index with `shell.commands`). */
  get commandLines(): string[] {
    this.lineList ??= linesOf(this.shell).lines;
    return this.lineList;
  }

  /** File paths a tool call names (`path`, `file_path`, `paths[]`, `changes[].path`…). */
  get paths(): string[] {
    if (!this.pathList) this.pathList = this.action.type === 'tool_call' ? inputPaths(this.action.input) : [];
    return this.pathList;
  }

  /**
   * What a matcher's `match` regex is tested against: for a shell call the whole line and each simple command in it;
   * for a call naming paths, the paths; otherwise the JSON of the input.
   */
  get subjects(): string[] {
    if (this.subjectList) return this.subjectList;
    const a = this.action;
    if (a.type !== 'tool_call') this.subjectList = [a.type === 'prompt' ? a.text : a.model];
    else if (this.isShell) {
      const text = this.command;
      if (text === null) this.subjectList = [];
      else {
        // An analysis belongs to one command line (`analyzeShell` keeps them by line), so its subjects can be kept too.
        const entry = linesOf(this.shell);
        this.subjectList = entry.subjects ??= Object.freeze([text, ...entry.lines]) as string[];
      }
    } else if (this.paths.length > 0) this.subjectList = this.paths;
    else this.subjectList = [safeJson(a.input)];
    return this.subjectList;
  }

  /** A short, redacted description of the action, for reasons and labels. */
  get summary(): string {
    this.summaryText ??= this.describe();
    return this.summaryText;
  }

  private describe(): string {
    const a = this.action;
    if (a.type === 'prompt') return 'prompt';
    if (a.type === 'usage') return `usage of ${redactText(a.model, 80)}`;
    if (this.isShell) return this.command === null ? 'shell call' : `\`${redactText(this.command, 160)}\``;
    if (this.paths.length > 0) return `${a.tool} ${redactText(this.paths.join(', '), 160)}`;
    return a.tool;
  }
}

interface Lines {
  lines: string[];
  /** The command line, then `lines`. */
  subjects: string[] | null;
}

/**
 * The joined commands of an analysis, kept with it and frozen like it: a line's analysis is shared by every call with
 * that line (see `analyzeShell`), so a repeated command line is not joined again.
 */
const joined = new WeakMap<ShellAnalysis, Lines>();

function linesOf(analysis: ShellAnalysis): Lines {
  let entry = joined.get(analysis);
  if (!entry) {
    entry = { lines: Object.freeze(analysis.commands.map((argv) => argv.join(' '))) as string[], subjects: null };
    joined.set(analysis, entry);
  }
  return entry;
}

const PATH_KEYS = ['path', 'file_path', 'filePath', 'notebook_path', 'directory', 'dir'];

function inputPaths(input: unknown): string[] {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return [];
  const rec = input as Record<string, unknown>;
  const out: string[] = [];
  for (const key of PATH_KEYS) if (typeof rec[key] === 'string' && rec[key]) out.push(rec[key]);
  if (Array.isArray(rec.paths)) for (const p of rec.paths) if (typeof p === 'string' && p) out.push(p);
  if (Array.isArray(rec.changes)) {
    for (const c of rec.changes) {
      if (typeof c !== 'object' || c === null) continue;
      const { path, move_path: movePath } = c as { path?: unknown; move_path?: unknown };
      if (typeof path === 'string' && path) out.push(path);
      if (typeof movePath === 'string' && movePath) out.push(movePath);
    }
  }
  return out;
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}
