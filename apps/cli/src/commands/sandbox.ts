import { mkdtempSync, realpathSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  CertificateAuthority,
  checkSandbox,
  EgressProxy,
  type SandboxCheck,
  SandboxUnavailableError,
  spawnSandboxed,
} from '@yoke/omnibox';

type Check = { name: string; ok: boolean; detail: string; fix?: string };

/**
 * The egress path end to end: a sandboxed `node` fetches a local test server through the bridge and the proxy
 * (allowed), then a host that is not allowed (refused). Nothing leaves the machine.
 */
async function checkProxy(): Promise<Check> {
  const server = createServer((_req, res) => res.end('through'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const denied: string[] = [];
  const proxy = new EgressProxy({
    allow: [`allowed.check.yoke:${port}`],
    onDenied: (d) => denied.push(d.host),
    resolve: async (_host, p) => ({ host: '127.0.0.1', port: p }),
  });
  const workspace = mkdtempSync(join(tmpdir(), 'yoke-sandbox-check-'));
  const script =
    `const get=(h)=>fetch('http://'+h+':${port}/').then(r=>r.status===200?r.text():'HTTP '+r.status,e=>'refused');` +
    `Promise.all([get('allowed.check.yoke'),get('other.check.yoke')]).then(a=>console.log(a.join(' ')))`;
  try {
    const out = await new Promise<string>((resolveOut, reject) => {
      const child = spawnSandboxed(process.execPath, ['-e', script], {
        workspace,
        stdio: ['ignore', 'pipe', 'pipe'],
        network: { proxy: proxy.handleConnection },
      });
      let text = '';
      child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
      child.on('error', reject);
      child.on('close', () => resolveOut(text.trim()));
    });
    const ok = out === 'through refused' && denied.includes('other.check.yoke');
    return ok
      ? {
          name: 'proxy',
          ok,
          detail: 'the bridge reaches the egress proxy; an allowed host answers, another is refused (403)',
        }
      : { name: 'proxy', ok, detail: `unexpected result through the proxy: ${out || '(nothing)'}` };
  } catch (e) {
    return { name: 'proxy', ok: false, detail: (e as Error).message };
  } finally {
    await proxy.close();
    server.close();
    rmSync(workspace, { recursive: true, force: true });
  }
}

/** `yoke sandbox check`: what of Omnibox works on this machine, each failure with its fix. Exit 0 when all does. */
export async function sandboxCheckCommand(o: { json?: boolean }): Promise<number> {
  const report = await checkSandbox();
  const checks: Check[] = report.checks.map((c: SandboxCheck) => ({ ...c }));
  if (report.ok) checks.push(await checkProxy());
  const ok = report.ok && checks.every((c) => c.ok);
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ ok, checks }, null, 2)}\n`);
    return ok ? 0 : 1;
  }
  for (const c of checks) {
    process.stdout.write(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name.padEnd(10)} ${c.detail}\n`);
    if (!c.ok && c.fix) process.stdout.write(`     ${''.padEnd(10)} fix: ${c.fix}\n`);
  }
  process.stdout.write(
    ok
      ? 'Omnibox works here: harness sessions run sandboxed.\n'
      : 'Omnibox cannot run here: the runner refuses harness sessions until this is fixed.\n',
  );
  return ok ? 0 : 1;
}

export interface SandboxRunOptions {
  workspace?: string;
  /** Hosts the command may reach through the egress proxy (same syntax as `egress` policies). */
  allow?: string[];
  /** Names of variables of this environment to pass in. */
  env?: string[];
}

/** `yoke sandbox run -- CMD`: runs CMD in Omnibox with the current directory as its workspace. Exits with its code. */
export async function sandboxRunCommand(command: string[], o: SandboxRunOptions): Promise<number> {
  if (command.length === 0) throw new Error('usage: yoke sandbox run [--allow HOST]… [--env NAME]… -- COMMAND [ARGS…]');
  const workspace = realpathSync(resolve(o.workspace ?? process.cwd()));
  if (!statSync(workspace).isDirectory()) throw new Error(`not a directory: ${workspace}`);
  const env: Record<string, string> = {};
  for (const name of o.env ?? []) {
    const value = process.env[name];
    if (value === undefined) throw new Error(`--env ${name}: not set in this environment`);
    env[name] = value;
  }
  const ca = await CertificateAuthority.create({ commonName: 'Yoke sandbox run CA' });
  const proxy = new EgressProxy({
    allow: o.allow ?? [],
    ca,
    interceptTls: 'never',
    onDenied: (d) =>
      process.stderr.write(`yoke sandbox: egress denied: ${d.method} ${d.host}:${d.port} (${d.code}: ${d.reason})\n`),
  });
  try {
    const child = spawnSandboxed(command[0], command.slice(1), {
      workspace,
      env,
      stdio: 'inherit',
      network: { proxy: proxy.handleConnection, caCertPem: ca.certPem },
    });
    const forward = (signal: NodeJS.Signals) => () => child.kill(signal);
    process.on('SIGINT', forward('SIGINT'));
    process.on('SIGTERM', forward('SIGTERM'));
    const code = await new Promise<number>((done, reject) => {
      child.on('error', reject);
      child.on('close', (c, signal) => done(c ?? (signal ? 128 : 1)));
    });
    return code;
  } catch (e) {
    if (e instanceof SandboxUnavailableError)
      throw new Error(`${e.message} (see \`yoke sandbox check\`)`, { cause: e });
    throw e;
  } finally {
    await proxy.close();
  }
}
