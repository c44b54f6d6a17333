import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Session } from '@yoke/protocol';
import { parseAgentYaml } from '@yoke/spec';
import { ApiClient } from '../api-client';
import { resolveServer, resolveToken } from '../server-discovery';
import { resumeHint, runChat } from '../tui/run-chat';

export interface ChatOptions {
  server?: string;
  harness?: string;
  model?: string;
  resume?: string;
  workspace?: string;
  home?: string;
}

/** Agent files `yoke` with no arguments looks for in the current directory, before the bundled helper. */
const LOCAL_AGENT_FILES = ['yoke.yaml', 'agent.yaml', '.yoke/agent.yaml'];
/** The repository's general coding assistant (examples/helper.yaml), next to this CLI. */
const HELPER_AGENT = join(__dirname, '..', '..', '..', '..', 'examples', 'helper.yaml');

/** The agent of a chat: the file given, else one in the current directory, else the bundled helper. */
export function defaultAgentFile(cwd: string): string {
  for (const name of LOCAL_AGENT_FILES) {
    if (existsSync(join(cwd, name))) return join(cwd, name);
  }
  return HELPER_AGENT;
}

/**
 * `yoke chat [AGENT.yaml]` and bare `yoke`: an interactive session in this terminal. A new session of the agent
 * (in the current directory as its workspace), or `--resume ID` to continue one; it stays when the UI exits.
 */
export async function chatCommand(file: string | undefined, opts: ChatOptions): Promise<number> {
  // A mistyped command lands here as an agent file: say so before anything else.
  if (file && !existsSync(file)) {
    process.stderr.write(`yoke: no command or agent file "${file}" (\`yoke --help\` lists the commands)\n`);
    return 2;
  }
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    process.stderr.write('yoke chat: needs a terminal; for scripts use `yoke run AGENT.yaml PROMPT` (or --json)\n');
    return 2;
  }
  const api = new ApiClient(resolveServer(opts.server, opts.home), resolveToken());
  const sessionId = opts.resume ?? (await createSession(api, file, opts));
  const { sessionId: last } = await runChat(api, sessionId);
  process.stdout.write(resumeHint(last));
  return 0;
}

async function createSession(api: ApiClient, file: string | undefined, opts: ChatOptions): Promise<string> {
  const path = resolve(file ?? defaultAgentFile(process.cwd()));
  const yaml = readFileSync(path, 'utf8');
  const shown = relative(process.cwd(), path) || path;
  parseAgentYaml(yaml, shown); // clear local errors (file:line:col) before anything is sent
  const session = await api.request('POST', '/sessions', Session, {
    agentYaml: yaml,
    agentFile: shown,
    ...(opts.harness ? { harness: opts.harness } : {}),
    ...(opts.model ? { model: opts.model } : {}),
    workspace: resolve(opts.workspace ?? process.cwd()),
    idempotencyKey: randomUUID(),
  });
  return session.id;
}
