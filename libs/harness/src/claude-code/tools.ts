import type { AgentTools, ToolKind } from '@yoke/protocol';
import { mcpToolKind } from '../codex/tools';

const KINDS: Record<string, ToolKind> = {
  Bash: 'shell',
  Monitor: 'shell',
  Read: 'file_read',
  Write: 'file_write',
  Edit: 'file_edit',
  MultiEdit: 'file_edit',
  NotebookEdit: 'file_edit',
  Glob: 'file_list',
  LS: 'file_list',
  Grep: 'search',
  WebFetch: 'web_fetch',
  WebSearch: 'web_search',
  Task: 'agent',
  Agent: 'agent',
};

/** Claude Code's tool names to canonical kinds; `mcp__<server>__<tool>` to `mcp:<server>/<tool>`. */
export function claudeToolKind(name: string): ToolKind {
  if (Object.hasOwn(KINDS, name)) return KINDS[name];
  const mcp = /^mcp__(.+?)__(.+)$/.exec(name);
  if (mcp) return mcpToolKind(mcp[1], mcp[2]);
  return `other:${name || 'unknown'}`;
}

/** The tools that change files, and the input field naming the file. */
export const FILE_WRITING_TOOLS = new Set(['Write', 'Edit', 'MultiEdit', 'NotebookEdit']);

/** The built-in tools an agent's `tools:` allows (`--tools`; names this CLI version lacks are ignored by it). */
export function claudeToolNames(tools: Pick<AgentTools, 'shell' | 'files' | 'web'>): string[] {
  return [
    ...(tools.shell ? ['Bash'] : []),
    ...(tools.files ? ['Read', 'Write', 'Edit', 'MultiEdit', 'NotebookEdit', 'Glob', 'Grep', 'LS'] : []),
    ...(tools.web ? ['WebFetch', 'WebSearch'] : []),
    'TodoWrite',
  ];
}

/** `--mcp-config` for the agent's MCP servers (with `--strict-mcp-config`, nothing else is loaded). */
export function claudeMcpConfig(mcp: AgentTools['mcp']): { mcpServers: Record<string, unknown> } {
  const servers: Record<string, unknown> = {};
  for (const [name, server] of Object.entries(mcp)) {
    servers[name] =
      'url' in server
        ? { type: 'http', url: server.url }
        : { type: 'stdio', command: server.command, args: server.args };
  }
  return { mcpServers: servers };
}

/** The file a file tool acts on (`file_path`, or `notebook_path` for notebooks). */
export function claudeToolPath(input: unknown): string | null {
  if (typeof input !== 'object' || input === null) return null;
  const { file_path: file, notebook_path: notebook } = input as { file_path?: unknown; notebook_path?: unknown };
  const path = typeof file === 'string' ? file : notebook;
  return typeof path === 'string' && path ? path : null;
}

/** The text of a tool_result's content (a string or text blocks). */
export function toolResultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => {
      if (typeof part !== 'object' || part === null) return '';
      const { type, text } = part as { type?: unknown; text?: unknown };
      if (type === 'text' && typeof text === 'string') return text;
      return type === 'image' ? '[image]' : '';
    })
    .join('');
}

/** Exit code of a Bash call: 0 on success, N from "Exit code N" on failure, else unknown. */
export function bashExitCode(output: string, isError: boolean): number | null {
  if (!isError) return 0;
  const match = /^Exit code (\d+)/.exec(output.trim());
  return match ? Number(match[1]) : null;
}

/** The output Bash produced: stdout and stderr of its structured result, else the tool_result text. */
export function bashOutput(structured: unknown, text: string): string {
  if (typeof structured === 'object' && structured !== null) {
    const { stdout, stderr } = structured as { stdout?: unknown; stderr?: unknown };
    if (typeof stdout === 'string' || typeof stderr === 'string') {
      const out = typeof stdout === 'string' ? stdout : '';
      const err = typeof stderr === 'string' ? stderr : '';
      return out && err ? `${out}\n${err}` : out || err;
    }
  }
  return text;
}
