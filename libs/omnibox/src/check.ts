import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable } from './host';
import { BWRAP_FIX, spawnSandboxed, SandboxUnavailableError } from './sandbox';

export interface SandboxCheck {
  name: 'platform' | 'bwrap' | 'namespaces' | 'seccomp';
  ok: boolean;
  detail: string;
  /** How to fix it, when not ok. */
  fix?: string;
}

export interface SandboxReport {
  ok: boolean;
  checks: SandboxCheck[];
}

const USERNS_FIX =
  'Allow unprivileged user namespaces: `sysctl -w kernel.unprivileged_userns_clone=1` (Debian), ' +
  '`sysctl -w user.max_user_namespaces=15000`, on Ubuntu 23.10+ `sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` ' +
  '(or an AppArmor profile for bwrap); in a container, run it with `--security-opt seccomp=unconfined` or ' +
  '`--privileged`, or run the runner on the host';

function run(
  command: string,
  args: string[],
  bwrap: string | undefined,
): Promise<{ code: number | null; out: string; err: string }> {
  const workspace = mkdtempSync(join(tmpdir(), 'yoke-omnibox-check-'));
  return new Promise((resolve) => {
    let out = '';
    let err = '';
    const done = (code: number | null, extra = ''): void => {
      rmSync(workspace, { recursive: true, force: true });
      resolve({ code, out, err: err + extra });
    };
    try {
      const child = spawnSandboxed(command, args, { workspace, stdio: ['ignore', 'pipe', 'pipe'], bwrap });
      child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', (e) => done(null, e.message));
      child.on('close', (code) => done(code));
    } catch (e) {
      done(null, (e as Error).message);
    }
  });
}

/** What works on this machine, each failed check with how to fix it. Runs two tiny sandboxes (~100 ms). */
export async function checkSandbox(opts: { bwrap?: string } = {}): Promise<SandboxReport> {
  const checks: SandboxCheck[] = [];
  const report = (): SandboxReport => ({ ok: checks.every((c) => c.ok), checks });
  if (process.platform !== 'linux') {
    checks.push({
      name: 'platform',
      ok: false,
      detail: `${process.platform}: the bwrap sandbox is Linux-only`,
      fix:
        process.platform === 'darwin' ? 'On macOS use the seatbelt profile (sandbox-exec)' : 'Run the runner on Linux',
    });
    return report();
  }
  checks.push({ name: 'platform', ok: true, detail: `linux ${process.arch}` });
  const bwrap = findExecutable(opts.bwrap ?? 'bwrap');
  if (!bwrap) {
    checks.push({ name: 'bwrap', ok: false, detail: 'bwrap not found on PATH', fix: BWRAP_FIX });
    return report();
  }
  checks.push({ name: 'bwrap', ok: true, detail: bwrap });

  const basic = await run('/bin/sh', ['-c', 'echo ok'], opts.bwrap);
  if (basic.code !== 0 || basic.out.trim() !== 'ok') {
    checks.push({
      name: 'namespaces',
      ok: false,
      detail: `bwrap could not start a sandbox: ${basic.err.trim() || `exit ${basic.code}`}`,
      fix: USERNS_FIX,
    });
    return report();
  }
  checks.push({ name: 'namespaces', ok: true, detail: 'user, pid, ipc, uts, net and cgroup namespaces' });

  // The filter must be in force: an AF_UNIX socket is refused inside, by seccomp (EPERM).
  const probe =
    "require('net').createServer().on('error',e=>{console.log(e.code);process.exit(0)}).listen('/tmp/s',()=>{console.log('OPEN');process.exit(0)})";
  const filtered = await run(process.execPath, ['-e', probe], opts.bwrap);
  const verdict = filtered.out.trim();
  checks.push(
    verdict === 'EPERM'
      ? { name: 'seccomp', ok: true, detail: 'filter loaded: new AF_UNIX sockets are refused' }
      : {
          name: 'seccomp',
          ok: false,
          detail: `the seccomp filter is not in force (AF_UNIX probe: ${verdict || filtered.err.trim()})`,
          fix: 'Use a kernel built with CONFIG_SECCOMP_FILTER and bubblewrap >= 0.5',
        },
  );
  return report();
}

/** Throws `SandboxUnavailableError` with every failed check and its fix: the runner calls this before a session. */
export async function assertSandboxWorks(opts: { bwrap?: string } = {}): Promise<void> {
  const { ok, checks } = await checkSandbox(opts);
  if (ok) return;
  const failed = checks.filter((c) => !c.ok);
  throw new SandboxUnavailableError(
    `the sandbox cannot run here: ${failed.map((c) => `${c.name}: ${c.detail}`).join('; ')}`,
    failed.map((c) => c.fix).join('. '),
  );
}
