import { existsSync, statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { checkHarnessClis } from '@yoke/harness';
import { RunnerView } from '@yoke/protocol';
import { ApiClient, ApiError } from '../api-client';
import { findLocalServer } from '../local-servers';
import {
  envFromRecord,
  keySource,
  keysSetCommandLine,
  MODEL_PROVIDERS,
  type ModelKeys,
  ModelKeysFileError,
  PROVIDER_VARS,
  readModelKeys,
} from '../model-keys';
import { type HostFacts, readHostFacts, sandboxProblems } from '../sandbox-prerequisites';
import { readServerRecord } from '../server-record';
import { resolveServer, resolveToken, yokeHome } from '../server-discovery';

/** One thing a turn may need, checked. `needed`: a turn cannot run while this fails (the exit code says so). */
export interface DoctorCheck {
  name: string;
  ok: boolean;
  needed: boolean;
  detail: string;
  fix?: string;
}

/** Below this much free space in the home, the embedded database and session logs may not fit. */
export const MIN_FREE_BYTES = 1024 ** 3;
const PROBE_TIMEOUT_MS = 3_000;

export interface DoctorContext {
  /** The Yoke home (`--home`, else YOKE_HOME, else ~/.yoke), resolved. */
  home: string;
  /** The default home: a fix names `--home` only for another one. */
  defaultHome: string;
  /** `--server`: which server to check (default: the one the CLI would use). */
  server?: string;
  /** The environment of the shell running the doctor. */
  env: NodeJS.ProcessEnv;
  host: HostFacts;
}

type Server = { url: string; token: string | undefined; local: { home: string } | null };

async function checkServer(ctx: DoctorContext): Promise<{ check: DoctorCheck; server: Server | null }> {
  let url: string;
  try {
    url = resolveServer(ctx.server, ctx.home);
  } catch {
    return {
      server: null,
      check: { name: 'server', ok: false, needed: true, detail: 'no Yoke server found', fix: startCommand(ctx) },
    };
  }
  const local = findLocalServer(url);
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
  } catch (err) {
    return {
      server: null,
      check: {
        name: 'server',
        ok: false,
        needed: true,
        detail: `${url} does not answer (${(err as Error).message})`,
        fix: isLoopback(url) ? startCommand(ctx) : `check that the server at ${url} runs and this machine reaches it`,
      },
    };
  }
  const server = { url, token: resolveToken(ctx.home), local: local ? { home: local.home } : null };
  return {
    server,
    check: { name: 'server', ok: true, needed: true, detail: `${url} answers${local ? ' (yoke start)' : ''}` },
  };
}

function isLoopback(url: string): boolean {
  try {
    return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
}

function startCommand(ctx: DoctorContext): string {
  return ctx.home === ctx.defaultHome ? 'yoke start' : `yoke start --home ${ctx.home}`;
}

async function checkRunner(ctx: DoctorContext, server: Server | null): Promise<DoctorCheck> {
  const name = 'runner';
  if (!server) return { name, ok: false, needed: true, detail: 'not checked: no server answers' };
  let runners: RunnerView[];
  try {
    const api = new ApiClient(server.url, server.token);
    runners = await api.request('GET', '/runners', z.array(RunnerView));
  } catch (err) {
    const refused = err instanceof ApiError && (err.status === 401 || err.status === 403);
    return {
      name,
      ok: false,
      needed: true,
      detail: `could not list the runners: ${(err as Error).message}`,
      fix: refused ? `sign in: yoke login ${server.url}` : undefined,
    };
  }
  const online = runners.filter((r) => r.online);
  if (online.length > 0) {
    return {
      name,
      ok: true,
      needed: true,
      detail: `${online.length} online (${online.map((r) => r.name).join(', ')})`,
    };
  }
  return {
    name,
    ok: false,
    needed: true,
    detail: runners.length ? `none of ${runners.length} enrolled runners is online` : 'no runner is enrolled',
    fix: server.local
      ? `restart \`${startCommand(ctx)}\`: its local runner runs inside it`
      : 'start a runner: `yoke runner start` on a machine enrolled with `yoke runner enrol`',
  };
}

const NEEDED_FOR: Record<(typeof MODEL_PROVIDERS)[number], string> = {
  anthropic: 'Claude models',
  openai: 'OpenAI models',
  gemini: 'Gemini models: the Gemini CLI',
};

/**
 * The model keys of this machine's local runner: the environment `yoke start` recorded when it runs (else this
 * shell's, which a `yoke start` started from it would get), then the home's keys file. A turn needs one provider;
 * the other is reported, not required.
 */
function checkKeys(ctx: DoctorContext, server: Server | null): DoctorCheck[] {
  const home = server?.local?.home ?? ctx.home;
  let stored: ModelKeys;
  try {
    stored = readModelKeys(home);
  } catch (err) {
    if (!(err instanceof ModelKeysFileError)) throw err;
    return [{ name: 'keys', ok: false, needed: true, detail: `${err.file} ${err.problem}`, fix: err.fix }];
  }
  const record = readServerRecord(home)?.modelEnv;
  const env = record ? envFromRecord(record) : ctx.env;
  const envText = record ? 'the environment of `yoke start`' : "this shell's environment";
  const checks = MODEL_PROVIDERS.map((provider): DoctorCheck => {
    const vars = PROVIDER_VARS[provider];
    const source = keySource(provider, env, stored, home);
    switch (source.kind) {
      case 'environment':
        return { name: provider, ok: true, needed: true, detail: `${vars.key} set in ${envText}` };
      case 'keys-file':
        return { name: provider, ok: true, needed: true, detail: `${vars.key} stored in ${source.file}` };
      case 'endpoint':
        return { name: provider, ok: true, needed: true, detail: `${vars.baseUrl}=${source.baseUrl} (no key needed)` };
      case 'missing':
        return {
          name: provider,
          ok: false,
          needed: true,
          detail: `${vars.key} is not set (needed for ${NEEDED_FOR[provider]})`,
          fix: keysSetCommandLine(provider, home, ctx.defaultHome),
        };
    }
  });
  // One provider is enough for a turn: with one set, a missing other one is reported but not needed.
  const anyUsable = checks.some((c) => c.ok);
  return checks.map((c) => (c.ok ? c : { ...c, needed: !anyUsable }));
}

async function checkSandboxHere(ctx: DoctorContext): Promise<DoctorCheck[]> {
  if ((ctx.env.YOKE_SANDBOX ?? '').trim().toLowerCase() === 'none') {
    return [{ name: 'sandbox', ok: true, needed: true, detail: 'off (YOKE_SANDBOX=none): harnesses run unsandboxed' }];
  }
  const problems = await sandboxProblems(ctx.host);
  if (problems.length === 0) return [{ name: 'sandbox', ok: true, needed: true, detail: 'bubblewrap works here' }];
  return problems.map((p) => ({ name: 'sandbox', ok: false, needed: true, detail: p.detail, fix: p.fix }));
}

/** Free space on the file system of the home (of its nearest existing ancestor when it does not exist yet). */
function checkDisk(ctx: DoctorContext): DoctorCheck {
  let dir = ctx.home;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  const fs = statfsSync(dir);
  const free = fs.bavail * fs.bsize;
  const text = `${(free / 1024 ** 3).toFixed(1)} GB free in ${ctx.home}`;
  return free >= MIN_FREE_BYTES
    ? { name: 'disk', ok: true, needed: true, detail: text }
    : {
        name: 'disk',
        ok: false,
        needed: true,
        detail: `${text}; the database and session logs need at least 1 GB`,
        fix: 'free some space there, or run `yoke start --home DIR` on a larger disk',
      };
}

function checkHarnesses(): DoctorCheck[] {
  return checkHarnessClis().map((c) =>
    c.ok
      ? { name: c.harness, ok: true, needed: false, detail: c.detail }
      : {
          name: c.harness,
          ok: false,
          needed: false,
          detail: `${c.detail} (needed only for \`harness: ${c.harness}\`)`,
          fix: `npm ci in the Yoke checkout (it installs ${c.package})`,
        },
  );
}

/** Everything a turn needs, in the order a turn needs it: server, runner, keys, sandbox, disk, harness CLIs. */
export async function doctorChecks(ctx: DoctorContext): Promise<DoctorCheck[]> {
  const [{ check: serverCheck, server }, sandbox] = await Promise.all([checkServer(ctx), checkSandboxHere(ctx)]);
  const runner = await checkRunner(ctx, server);
  return [serverCheck, runner, ...checkKeys(ctx, server), ...sandbox, checkDisk(ctx), ...checkHarnesses()];
}

/** The report as people read it: ✓ or ✗ per check, the fix under each failure, and what the failures mean. */
export function formatDoctorReport(checks: DoctorCheck[]): string {
  const width = Math.max(...checks.map((c) => c.name.length)) + 2;
  const lines = checks.flatMap((c) => {
    const head = `${c.ok ? '✓' : '✗'} ${c.name.padEnd(width)}${c.detail}`;
    return c.ok || !c.fix ? [head] : [head, `  ${''.padEnd(width)}fix: ${c.fix}`];
  });
  const blocking = checks.filter((c) => !c.ok && c.needed).length;
  const optional = checks.filter((c) => !c.ok && !c.needed).length;
  lines.push(
    '',
    blocking
      ? `${blocking} problem${blocking > 1 ? 's' : ''} to fix before a turn can run.`
      : `Ready: a turn can run.${optional ? ` (${optional} optional item${optional > 1 ? 's' : ''} above)` : ''}`,
  );
  return `${lines.join('\n')}\n`;
}

/** `yoke doctor [--json] [--server URL] [--home DIR]`: exit 1 when something a turn needs is missing. */
export async function doctorCommand(o: { json?: boolean; server?: string; home?: string }): Promise<number> {
  const checks = await doctorChecks({
    home: resolve(yokeHome(o.home)),
    defaultHome: resolve(yokeHome()),
    server: o.server,
    env: process.env,
    host: readHostFacts(),
  });
  const ok = checks.every((c) => c.ok || !c.needed);
  process.stdout.write(o.json ? `${JSON.stringify({ ok, checks }, null, 2)}\n` : formatDoctorReport(checks));
  return ok ? 0 : 1;
}
