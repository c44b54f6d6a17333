import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { parseAgentYaml } from '@yoke/spec';
import { type Item, Session } from '@yoke/protocol';
import { ApiClient } from '../api-client';
import { TerminalRenderer } from '../render';
import { resolveServer, resolveToken } from '../server-discovery';

export interface RunOptions {
  server?: string;
  harness?: string;
  model?: string;
  json?: boolean;
  /** With `json`: streamed chunks too, as `{"delta": …}` lines. */
  deltas?: boolean;
  workspace?: string;
  home?: string;
}

/** `yoke run AGENT.yaml [PROMPT]`: starts a session, streams its first turn, exits non-zero if the turn failed. */
export async function runCommand(file: string, prompt: string | undefined, opts: RunOptions): Promise<number> {
  const path = resolve(file);
  const yaml = readFileSync(path, 'utf8');
  parseAgentYaml(yaml, file); // clear local errors (file:line:col) before anything is sent
  const api = new ApiClient(resolveServer(opts.server, opts.home), resolveToken());
  const session = await api.request('POST', '/sessions', Session, {
    agentYaml: yaml,
    agentFile: file,
    ...(opts.harness ? { harness: opts.harness } : {}),
    ...(opts.model ? { model: opts.model } : {}),
    workspace: resolve(opts.workspace ?? process.cwd()),
    ...(prompt ? { prompt } : {}),
    idempotencyKey: randomUUID(),
  });
  if (!opts.json) process.stderr.write(`session ${session.id}\n`);
  if (!prompt) {
    if (opts.json) process.stdout.write(`${JSON.stringify(session)}\n`);
    return 0;
  }
  return followFirstTurn(api, session.id, opts.json ?? false, opts.deltas ?? false);
}

export function followFirstTurn(api: ApiClient, sessionId: string, json: boolean, deltas = false): Promise<number> {
  const renderer = new TerminalRenderer();
  return new Promise<number>((done) => {
    const finish = (code: number) => {
      follower.close();
      renderer.close();
      done(code);
    };
    const follower = api.follow(sessionId, {
      onItem: (item: Item) => {
        if (json) process.stdout.write(`${JSON.stringify(item)}\n`);
        else renderer.item(item);
        if (item.type === 'turn_completed') finish(0);
        if (item.type === 'turn_failed') finish(1);
      },
      onDelta: !json
        ? (delta) => renderer.delta(delta)
        : deltas
          ? (delta) => process.stdout.write(`${JSON.stringify({ delta })}\n`)
          : undefined,
      onError: (error) => {
        process.stderr.write(`error: ${error.code}: ${error.message}\n`);
        finish(2);
      },
    });
  });
}
