import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { AgentTools, BuiltinToolKind, SubAgentSpec } from '@yoke/protocol';
import type { DelegateRequest, DelegateResult } from '../adapter';
import { z } from 'zod';
import { clip, unifiedDiff } from './diff';
import type { ModelToolSpec } from './model';
import { runShell } from './shell';
import { resolveInWorkspace } from './workspace';

export interface ToolContext {
  workspace: string;
  signal: AbortSignal;
  shellTimeoutMs: number;
  /** Streams command output while a shell command runs. */
  onOutput: (text: string) => void;
  /** The model's id for this call. */
  callId?: string;
  /** Runs a sub-agent as a child session (the host's `delegate` hook); absent: delegation is unavailable. */
  delegate?: (request: DelegateRequest) => Promise<DelegateResult>;
}

export interface ToolOutcome {
  /** What the model gets back. */
  output: string;
  isError: boolean;
  command?: { argv: string[]; cwd: string; exitCode: number | null; output: string };
  fileChange?: { path: string; diff: string };
}

export interface YokeTool<I = unknown> {
  name: string;
  kind: BuiltinToolKind;
  description: string;
  input: z.ZodType<I>;
  run(input: I, ctx: ToolContext): Promise<ToolOutcome>;
}

const MAX_READ_BYTES = 256 * 1024;
const MAX_LIST_ENTRIES = 1000;
const SKIPPED_DIRS = new Set(['.git', 'node_modules']);

const ok = (output: string): ToolOutcome => ({ output, isError: false });
export const toolError = (output: string): ToolOutcome => ({ output, isError: true });

const shell: YokeTool<{ command: string }> = {
  name: 'shell',
  kind: 'shell',
  description:
    'Run a bash command in the workspace directory and return its combined stdout/stderr and exit code. ' +
    'Commands run non-interactively and are killed after a timeout.',
  input: z.object({ command: z.string().min(1).describe('The bash command line to run.') }),
  async run({ command }, ctx) {
    const result = await runShell(command, {
      cwd: ctx.workspace,
      timeoutMs: ctx.shellTimeoutMs,
      signal: ctx.signal,
      onOutput: ctx.onOutput,
    });
    const exit = result.exitCode === null ? 'killed' : String(result.exitCode);
    return {
      output: `${result.output}${result.output.endsWith('\n') || !result.output ? '' : '\n'}[exit code: ${exit}]`,
      isError: result.exitCode !== 0,
      command: { argv: ['bash', '-lc', command], cwd: ctx.workspace, exitCode: result.exitCode, output: result.output },
    };
  },
};

const readFileTool: YokeTool<{ path: string }> = {
  name: 'read_file',
  kind: 'file_read',
  description: 'Read a UTF-8 text file from the workspace. Paths are relative to the workspace root.',
  input: z.object({ path: z.string().min(1).describe('File path, relative to the workspace.') }),
  async run({ path }, ctx) {
    const target = await resolveInWorkspace(ctx.workspace, path);
    const info = await stat(target.abs);
    if (info.isDirectory()) return toolError(`${target.rel} is a directory; use list_files`);
    const data = await readFile(target.abs);
    if (data.subarray(0, 8000).includes(0)) return toolError(`${target.rel} is a binary file (${data.length} bytes)`);
    const text = data.subarray(0, MAX_READ_BYTES).toString('utf8');
    return ok(data.length > MAX_READ_BYTES ? `${text}\n[... file truncated at ${MAX_READ_BYTES} bytes ...]` : text);
  },
};

const writeFileTool: YokeTool<{ path: string; content: string }> = {
  name: 'write_file',
  kind: 'file_write',
  description: 'Create or overwrite a file in the workspace with the given content (parent directories are created).',
  input: z.object({
    path: z.string().min(1).describe('File path, relative to the workspace.'),
    content: z.string().describe('The complete new content of the file.'),
  }),
  async run({ path, content }, ctx) {
    const target = await resolveInWorkspace(ctx.workspace, path);
    const before = await readTextOrNull(target.abs);
    await mkdir(dirname(target.abs), { recursive: true });
    await writeFile(target.abs, content);
    return {
      output: `wrote ${Buffer.byteLength(content)} bytes to ${target.rel}`,
      isError: false,
      ...(before === content
        ? {}
        : { fileChange: { path: target.rel, diff: unifiedDiff(target.rel, before, content) } }),
    };
  },
};

const editFileTool: YokeTool<{ path: string; old_string: string; new_string: string }> = {
  name: 'edit_file',
  kind: 'file_edit',
  description:
    'Replace one exact occurrence of old_string with new_string in a workspace file. old_string must match ' +
    'exactly once (include surrounding lines to make it unique).',
  input: z.object({
    path: z.string().min(1).describe('File path, relative to the workspace.'),
    old_string: z.string().describe('The exact text to replace; must occur exactly once in the file.'),
    new_string: z.string().describe('The replacement text.'),
  }),
  async run({ path, old_string: oldText, new_string: newText }, ctx) {
    const target = await resolveInWorkspace(ctx.workspace, path);
    const before = await readTextOrNull(target.abs);
    if (before === null) return toolError(`${target.rel} does not exist; use write_file to create it`);
    if (oldText === '') return toolError('old_string must not be empty');
    const count = before.split(oldText).length - 1;
    if (count === 0) return toolError(`old_string was not found in ${target.rel}; read the file and copy it exactly`);
    if (count > 1) {
      return toolError(
        `old_string matches ${count} times in ${target.rel}; include more surrounding text so it is unique`,
      );
    }
    const at = before.indexOf(oldText);
    const after = before.slice(0, at) + newText + before.slice(at + oldText.length);
    await writeFile(target.abs, after);
    return {
      output: `edited ${target.rel}`,
      isError: false,
      fileChange: { path: target.rel, diff: unifiedDiff(target.rel, before, after) },
    };
  },
};

const listFilesTool: YokeTool<{ path?: string }> = {
  name: 'list_files',
  kind: 'file_list',
  description: `List files under a workspace directory, recursively (skips .git and node_modules; at most ${MAX_LIST_ENTRIES} entries).`,
  input: z.object({ path: z.string().optional().describe('Directory relative to the workspace; default the root.') }),
  async run({ path }, ctx) {
    const target = await resolveInWorkspace(ctx.workspace, path || '.');
    if (!(await stat(target.abs)).isDirectory()) return toolError(`${target.rel} is not a directory`);
    const lines: string[] = [];
    let truncated = false;
    const walk = async (abs: string, prefix: string): Promise<void> => {
      const entries = await readdir(abs, { withFileTypes: true });
      entries.sort((a, b) => a.name.localeCompare(b.name));
      for (const entry of entries) {
        if (lines.length >= MAX_LIST_ENTRIES) {
          truncated = true;
          return;
        }
        const rel = `${prefix}${entry.name}`;
        if (entry.isDirectory()) {
          lines.push(`${rel}/`);
          if (!SKIPPED_DIRS.has(entry.name)) await walk(`${abs}/${entry.name}`, `${rel}/`);
        } else {
          lines.push(rel);
        }
      }
    };
    await walk(target.abs, '');
    if (lines.length === 0) return ok(`${target.rel} is empty`);
    return ok(
      clip(
        lines.join('\n') + (truncated ? `\n[... listing stopped at ${MAX_LIST_ENTRIES} entries ...]` : ''),
        64 * 1024,
      ),
    );
  },
};

/**
 * `delegate`: hands a task to one of the agent's sub-agents (`agents:` in its YAML), which runs as a child session on
 * its own harness in the same workspace; its final answer comes back as the tool result.
 */
export function delegateTool(agents: Record<string, SubAgentSpec>): YokeTool<{ agent: string; prompt: string }> {
  const names = Object.keys(agents);
  const listing = names.map((n) => `- ${n} (${agents[n].harness})`).join('\n');
  return {
    name: 'delegate',
    kind: 'agent',
    description:
      'Delegate a task to a sub-agent. It works in the same workspace as a separate session and returns its final ' +
      `answer. Give it a complete, self-contained prompt. Sub-agents:\n${listing}`,
    input: z.object({
      agent: z.enum(names as [string, ...string[]]).describe('Which sub-agent to run.'),
      prompt: z.string().min(1).max(100_000).describe('The task for the sub-agent.'),
    }),
    async run({ agent, prompt }, ctx) {
      if (!ctx.delegate || !ctx.callId) return toolError('delegation is not available in this session');
      const result = await ctx.delegate({ callId: ctx.callId, agent, prompt });
      if (!result.ok) {
        const where = result.sessionId ? ` (session ${result.sessionId})` : '';
        return toolError(`sub-agent ${agent} failed${where}: ${result.error}`);
      }
      return ok(result.text || `sub-agent ${agent} finished without a final message (session ${result.sessionId})`);
    },
  };
}

async function readTextOrNull(abs: string): Promise<string | null> {
  try {
    return await readFile(abs, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** The tools an agent may use, as its `tools:` block allows. */
export function buildTools(config: Pick<AgentTools, 'shell' | 'files'>): YokeTool[] {
  const tools: YokeTool[] = [];
  if (config.shell) tools.push(shell as YokeTool);
  if (config.files)
    tools.push(
      readFileTool as YokeTool,
      writeFileTool as YokeTool,
      editFileTool as YokeTool,
      listFilesTool as YokeTool,
    );
  return tools;
}

/** JSON-schema descriptions of `tools` for the model. */
export function toolSpecs(tools: YokeTool[]): ModelToolSpec[] {
  return tools.map((t) => {
    const { $schema: _ignored, ...parameters } = z.toJSONSchema(t.input, { io: 'input' }) as Record<string, unknown>;
    return { name: t.name, description: t.description, parameters };
  });
}
