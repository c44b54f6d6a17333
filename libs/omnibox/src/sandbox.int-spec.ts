import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSandbox } from './check';
import { SHELL_RC_FILES_OF } from './bwrap';
import { spawnSandboxed, type SpawnSandboxedOptions } from './sandbox';

/** Runs a command in the sandbox to completion, collecting its output. */
export function runSandboxed(
  command: string,
  args: string[],
  opts: SpawnSandboxedOptions,
  stdin?: string,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnSandboxed(command, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, out, err }));
    child.stdin?.end(stdin ?? '');
  });
}

const listen = (server: Server): Promise<number> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

describe('spawnSandboxed (real bwrap)', () => {
  let ws: string;
  beforeEach(() => {
    ws = mkdtempSync(join(tmpdir(), 'yoke-ws-'));
  });
  afterEach(() => rmSync(ws, { recursive: true, force: true }));

  it('reports a working sandbox on this machine', async () => {
    const report = await checkSandbox();
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('keeps spawn stdio semantics: stdin in, stdout and stderr out, exit code through', async () => {
    const r = await runSandboxed('/bin/sh', ['-c', 'cat; echo err >&2; exit 7'], { workspace: ws }, 'hello\n');
    expect(r).toEqual({ code: 7, signal: null, out: 'hello\n', err: 'err\n' });
  });

  it('runs as an unprivileged user in the workspace, with only the pass-list environment', async () => {
    process.env.YOKE_TEST_RUNNER_SECRET = 'runner-only';
    try {
      const r = await runSandboxed('/bin/sh', ['-c', 'id -u; pwd; hostname; env'], {
        workspace: ws,
        env: { MY_VAR: 'passed' },
      });
      const [uid, cwd, host, ...env] = r.out.trim().split('\n');
      expect([uid, cwd, host]).toEqual(['1000', ws, 'omnibox']);
      expect(env).toContain('MY_VAR=passed');
      expect(env).toContain('HOME=/home/yoke');
      expect(r.out).not.toContain('runner-only');
    } finally {
      delete process.env.YOKE_TEST_RUNNER_SECRET;
    }
  });

  it('writes in the workspace reach the host; system dirs and the home are not the host ones', async () => {
    const r = await runSandboxed(
      '/bin/sh',
      ['-c', 'echo made > out.txt; touch /usr/x 2>&1; ls -A $HOME | tr "\\n" " "'],
      { workspace: ws },
    );
    expect(readFileSync(join(ws, 'out.txt'), 'utf8')).toBe('made\n');
    expect(r.out).toMatch(/Read-only file system/);
    expect(r.out).not.toMatch(/\.ssh|\.npmrc|\.yoke/);
  });

  it('binds the harness config into the private home, read-only by default', async () => {
    const cfg = mkdtempSync(join(tmpdir(), 'yoke-cfg-'));
    writeFileSync(join(cfg, 'settings.json'), '{"a":1}');
    mkdirSync(join(cfg, 'state'));
    try {
      const r = await runSandboxed(
        '/bin/sh',
        ['-c', 'cat ~/.tool/settings.json; echo x > ~/.tool/settings.json 2>&1; echo s > ~/.state/f && echo wrote'],
        {
          workspace: ws,
          home: {
            binds: [
              { source: cfg + '/settings.json', dest: '.tool/settings.json' },
              { source: cfg + '/state', dest: '.state', readOnly: false },
            ],
          },
        },
      );
      expect(r.out).toContain('{"a":1}');
      expect(r.err + r.out).toMatch(/Read-only file system/);
      expect(r.out).toContain('wrote');
      expect(existsSync(join(cfg, 'state', 'f'))).toBe(true);
    } finally {
      rmSync(cfg, { recursive: true, force: true });
    }
  });

  it('loads the seccomp filter into every process (Seccomp: 2 = filter mode)', async () => {
    const r = await runSandboxed('/bin/sh', ['-c', 'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status'], {
      workspace: ws,
    });
    expect(r.out).toMatch(/NoNewPrivs:\s+1/);
    expect(r.out).toMatch(/Seccomp:\s+2/);
  });

  it('passes no inherited fd into the sandbox: beyond stdio, only /dev/null stand-ins', async () => {
    const r = await runSandboxed(
      process.execPath,
      [
        '-e',
        'console.log(require("fs").readdirSync("/proc/self/fd").map(fd => fd + " " + require("fs").readlinkSync("/proc/self/fd/" + fd)).join("\\n"))',
      ],
      {
        workspace: ws,
      },
    );
    const extra = r.out
      .trim()
      .split('\n')
      .map((line) => line.split(' '))
      .filter(([fd]) => Number(fd) > 2);
    // node's own (epoll, eventfd, its pipes) are anon inodes or pipes it made; nothing else may be there
    for (const [fd, target] of extra)
      expect([fd, target]).toEqual([
        fd,
        expect.stringMatching(/^(\/dev\/null|anon_inode:.*|pipe:.*|\/proc\/self\/fd)$/),
      ]);
    expect(extra.filter(([, t]) => t.startsWith('/') && t !== '/dev/null' && t !== '/proc/self/fd')).toEqual([]);
  });

  it('bridges 127.0.0.1:<port> inside to the proxy and nothing else', async () => {
    const upstream = createServer((req, res) => res.end(`proxied ${req.method} ${req.url}`));
    const upstreamPort = await listen(upstream);
    const seen: string[] = [];
    const proxy = (socket: Socket): void => {
      seen.push('connection');
      const up = connect(upstreamPort, '127.0.0.1');
      socket.pipe(up).pipe(socket);
    };
    try {
      const script =
        "require('http').get(process.env.HTTP_PROXY + '/', {headers:{}}, (r) => { let d=''; r.on('data', c => d += c);" +
        " r.on('end', () => console.log(d)); }).on('error', (e) => console.log('ERR', e.message))";
      const r = await runSandboxed(process.execPath, ['-e', script], { workspace: ws, network: { proxy } });
      expect(r.err).toBe('');
      expect(r.out.trim()).toBe('proxied GET /');
      expect(seen).toEqual(['connection']);
    } finally {
      upstream.close();
    }
  });

  it('a node command may host the bridge itself: no second node process, its node children reach the proxy too', async () => {
    const upstream = createServer((req, res) => res.end(`proxied ${req.url}`));
    const upstreamPort = await listen(upstream);
    const proxy = (socket: Socket): void => {
      socket.pipe(connect(upstreamPort, '127.0.0.1')).pipe(socket);
    };
    // The command reports what runs in the sandbox's PID namespace, what it sees of the channel, and what a node
    // child of its own gets through the proxy (and of the bridge's settings).
    const child =
      "require('http').get(process.env.HTTP_PROXY + '/child', (r) => { let d = ''; r.on('data', (c) => (d += c));" +
      " r.on('end', () => console.log(JSON.stringify({ d, port: process.env.YOKE_BRIDGE_PORT ?? null," +
      ' options: process.env.NODE_OPTIONS }))); })';
    const script = `
      const fs = require('fs');
      const cmdlines = fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p))
        .map((p) => { try { return fs.readFileSync('/proc/' + p + '/cmdline', 'utf8').split('\\0').join(' '); } catch { return ''; } })
        .filter(Boolean);
      require('child_process').execFile(process.execPath, ['-e', ${JSON.stringify(child)}], (err, out) => {
        if (err) throw err;
        console.log(JSON.stringify({ send: typeof process.send, bridges: cmdlines.filter((c) => c.startsWith(process.execPath + ' ' + '/') && c.includes(['bridge', 'js'].join('.'))).length,
          nodes: cmdlines.filter((c) => c.startsWith(process.execPath)).length, child: JSON.parse(out) }));
      });`;
    try {
      const r = await runSandboxed(process.execPath, ['-e', script], {
        workspace: ws,
        network: { proxy, hostBridge: true },
      });
      expect(r.err).toBe('');
      const seen = JSON.parse(r.out.trim()) as {
        send: string;
        bridges: number;
        nodes: number;
        child: { d: string; port: string | null; options: string };
      };
      expect(seen).toEqual({
        send: 'undefined',
        bridges: 0,
        nodes: 1, // the command alone (its child starts after the count)
        child: { d: 'proxied /child', port: null, options: expect.stringContaining('net-preload.js') as string },
      });
      expect(seen.child.options).not.toContain('bridge-preload');
      expect(r.code).toBe(0);
      // Without `hostBridge` the same command runs under the bridge process, as any other command does.
      const bridged = await runSandboxed(process.execPath, ['-e', script], { workspace: ws, network: { proxy } });
      expect(JSON.parse(bridged.out.trim())).toMatchObject({
        bridges: 1,
        nodes: 2,
        child: { d: 'proxied /child', port: null },
      });
    } finally {
      upstream.close();
    }
  });

  it("loads undici for node's fetch only when fetch is first used, and fetch then goes through the proxy", async () => {
    // The proxy records what it was asked and refuses it (the egress proxy's own rules are tested with it).
    const asked: string[] = [];
    const proxy = (socket: Socket): void => {
      socket.once('data', (d: Buffer) => {
        asked.push(d.toString().split('\r\n')[0]);
        socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n');
      });
    };
    const script = `
      const loaded = () => Object.keys(require.cache).some((k) => k.includes('/undici/'));
      const before = loaded();
      fetch('http://example.test/x').catch(() => console.log(JSON.stringify({ before, after: loaded() })));`;
    for (const hostBridge of [false, true]) {
      asked.length = 0;
      const r = await runSandboxed(process.execPath, ['-e', script], { workspace: ws, network: { proxy, hostBridge } });
      expect(r.err).toBe('');
      expect([hostBridge, JSON.parse(r.out.trim())]).toEqual([hostBridge, { before: false, after: true }]);
      expect(asked).toEqual(['CONNECT example.test:80 HTTP/1.1']);
    }
  });

  it('routes bridge connections to a Unix socket path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'yoke-sock-'));
    const server = createServer((req, res) => res.end(`unix ${req.url}`));
    await new Promise<void>((resolve) => server.listen(join(dir, 'proxy.sock'), resolve));
    try {
      const r = await runSandboxed(
        '/bin/sh',
        ['-c', `${process.execPath} -e "require('http').get('http://127.0.0.1:4000/x',r=>r.pipe(process.stdout))"`],
        { workspace: ws, network: { proxy: join(dir, 'proxy.sock'), port: 4000 } },
      );
      expect(r.out).toBe('unix /x');
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('signals reach the command through the bridge, and its exit status comes back', async () => {
    const r = await runSandboxed('/bin/sh', ['-c', 'kill -TERM $$'], {
      workspace: ws,
      network: { proxy: (s) => s.destroy() },
    });
    expect(r.signal ?? r.code).toBeTruthy();
    const ok = await runSandboxed('/bin/sh', ['-c', 'exit 3'], {
      workspace: ws,
      network: { proxy: (s) => s.destroy() },
    });
    expect(ok.code).toBe(3);
  });

  it('throws a clear error when bwrap is missing, unless unsandboxed runs are allowed', async () => {
    expect(() => spawnSandboxed('/bin/true', [], { workspace: ws, bwrap: '/nonexistent/bwrap' })).toThrow(
      /bubblewrap \(bwrap\) is not installed.*apt-get install bubblewrap/,
    );
    const child = spawnSandboxed('/bin/true', [], {
      workspace: ws,
      bwrap: '/nonexistent/bwrap',
      allowUnsandboxed: true,
      stdio: 'ignore',
    });
    expect(child.sandbox).toBe('none');
    await new Promise((resolve) => child.on('close', resolve));
    const report = await checkSandbox({ bwrap: '/nonexistent/bwrap' });
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.name === 'bwrap')?.fix).toMatch(/apt-get install bubblewrap/);
  });

  it('an http request to the proxy gets no answer when no network is configured', async () => {
    const r = await runSandboxed(
      process.execPath,
      ['-e', "require('http').get('http://127.0.0.1:3128/').on('error', e => console.log(e.code))"],
      { workspace: ws },
    );
    expect(r.out.trim()).toBe('ECONNREFUSED');
    void request;
  });

  describe('the mandatory deny list, whatever the workspace holds', () => {
    const files = {
      '.ssh/id_rsa': 'PRIVATE KEY\n',
      '.aws/credentials': '[default]\naws_secret_access_key=abc\n',
      '.bashrc': 'echo original\n',
      '.git/config': '[core]\n\tbare = false\n',
      '.git/hooks/pre-commit.sample': '#!/bin/sh\n',
      '.env': 'TOKEN=workspace-own\n',
    };
    beforeEach(() => {
      for (const [rel, content] of Object.entries(files)) {
        mkdirSync(join(ws, rel, '..'), { recursive: true });
        writeFileSync(join(ws, rel), content);
      }
    });

    it('hides credentials and keeps rc files and git hooks/config read-only; ordinary files stay writable', async () => {
      const script = [
        'cat .ssh/id_rsa && echo READ-SSH',
        'ls -A .ssh | grep . && echo LIST-SSH',
        'cat .aws/credentials && echo READ-AWS',
        'echo evil >> .bashrc && echo WROTE-BASHRC',
        'echo "[core] hooksPath = /tmp" >> .git/config && echo WROTE-GITCONFIG',
        'echo evil > .git/hooks/post-checkout && echo MADE-HOOK',
        'rm -rf .ssh && echo REMOVED-SSH',
        'mv .bashrc moved && echo MOVED-BASHRC',
        'cat .env',
        'echo fine > ordinary.txt && mkdir -p src && echo code > src/main.ts && echo WROTE-ORDINARY',
      ].join('; ');
      const r = await runSandboxed('/bin/sh', ['-c', `${script} 2>/dev/null`], { workspace: ws });
      expect(r.out).not.toMatch(/PRIVATE KEY|READ-SSH|LIST-SSH|aws_secret|READ-AWS/);
      expect(r.out).not.toMatch(/WROTE-BASHRC|WROTE-GITCONFIG|MADE-HOOK|REMOVED-SSH|MOVED-BASHRC/);
      expect(r.out).toContain('TOKEN=workspace-own'); // the workspace's own .env is the project's
      expect(r.out).toContain('WROTE-ORDINARY');
      for (const [rel, content] of Object.entries(files)) expect(readFileSync(join(ws, rel), 'utf8')).toBe(content);
      expect(existsSync(join(ws, '.git/hooks/post-checkout'))).toBe(false);
      expect(readFileSync(join(ws, 'ordinary.txt'), 'utf8')).toBe('fine\n');
      expect(readFileSync(join(ws, 'src/main.ts'), 'utf8')).toBe('code\n');
    });

    it('a repository without hooks gets no creatable .git/hooks either', async () => {
      rmSync(join(ws, '.git/hooks'), { recursive: true });
      const r = await runSandboxed(
        '/bin/sh',
        ['-c', 'mkdir -p .git/hooks 2>/dev/null; echo x > .git/hooks/pre-commit 2>/dev/null && echo MADE-HOOK; true'],
        { workspace: ws },
      );
      expect(r.out).not.toContain('MADE-HOOK');
      expect(existsSync(join(ws, '.git/hooks/pre-commit'))).toBe(false);
    });

    it('hides .env files and credentials at the top of the code dirs bound in', async () => {
      const code = mkdtempSync(join(tmpdir(), 'yoke-code-'));
      writeFileSync(join(code, '.env'), 'DATABASE_URL=postgres://secret\n');
      writeFileSync(join(code, '.env.production'), 'KEY=secret\n');
      writeFileSync(join(code, 'index.js'), 'module.exports = 1;\n');
      mkdirSync(join(code, '.ssh'));
      writeFileSync(join(code, '.ssh/id_ed25519'), 'PRIVATE\n');
      try {
        const r = await runSandboxed(
          '/bin/sh',
          ['-c', `cat ${code}/index.js; cat ${code}/.env ${code}/.env.production ${code}/.ssh/id_ed25519 2>/dev/null`],
          { workspace: ws, binds: [{ source: code }] },
        );
        expect(r.out).toBe('module.exports = 1;\n');
      } finally {
        rmSync(code, { recursive: true, force: true });
      }
    });
  });

  it('a login shell reads its (empty, read-only) profile without complaint, in a tmpfs or a bound home', async () => {
    const state = mkdtempSync(join(tmpdir(), 'yoke-harness-'));
    try {
      for (const home of [undefined, { path: state, binds: [{ source: state, dest: state, readOnly: false }] }]) {
        const r = await runSandboxed('/bin/bash', ['-lc', 'echo ran; echo hi > ~/.bash_profile'], {
          workspace: ws,
          home,
        });
        expect(r.out).toBe('ran\n');
        // Read before each command without a word (binds are nodev: a /dev/null stand-in said "Permission denied").
        expect(r.err).not.toMatch(/Permission denied/);
        expect(r.err).toMatch(/\.bash_profile: Read-only file system/);
      }
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });

  it('covers the start-up files of every shell the host has, read-only, and none of a shell it has not', async () => {
    const script =
      'cd ~; for f in "$@"; do if [ -e "$f" ]; then if [ -w "$f" ]; then echo "$f writable"; else echo "$f"; fi; fi; done';
    const files = Object.values(SHELL_RC_FILES_OF).flat();
    const seen = await runSandboxed('/bin/sh', ['-c', script, 'sh', ...files], { workspace: ws });
    const has = (shell: string) => ['/usr/bin', '/bin', '/usr/local/bin'].some((d) => existsSync(join(d, shell)));
    const expected = Object.entries(SHELL_RC_FILES_OF).flatMap(([shell, rc]) => (has(shell) ? [...rc] : []));
    expect(has('bash')).toBe(true); // this machine runs every harness's shell tool through bash
    expect(seen.out.trim().split('\n').filter(Boolean)).toEqual(expected);
  });
});
