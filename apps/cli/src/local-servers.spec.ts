import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  findLocalServer,
  isAlive,
  localCredential,
  localServersDir,
  registerLocalServer,
  unregisterLocalServer,
} from './local-servers';

/** A pid that was alive a moment ago and is not any more. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('local servers index', () => {
  const saved = { ...process.env };
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'yoke-run-'));
    process.env.YOKE_RUNTIME_DIR = join(root, 'run');
  });
  afterEach(() => {
    process.env = { ...saved };
  });

  it('lives in YOKE_RUNTIME_DIR, else XDG_RUNTIME_DIR/yoke, created 0700', () => {
    expect(localServersDir()).toBe(join(root, 'run'));
    expect(statSync(join(root, 'run')).mode & 0o777).toBe(0o700);
    delete process.env.YOKE_RUNTIME_DIR;
    process.env.XDG_RUNTIME_DIR = root;
    expect(localServersDir()).toBe(join(root, 'yoke'));
  });

  it('refuses a directory others may write to', () => {
    const dir = join(root, 'open');
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    process.env.YOKE_RUNTIME_DIR = dir;
    expect(() => localServersDir()).toThrow(/writable by group or others/);
  });

  it('registers, finds by any loopback spelling, and unregisters', () => {
    registerLocalServer({ url: 'http://127.0.0.1:7420', pid: process.pid, home: '/h/a' });
    const files = readdirSync(localServersDir());
    expect(files).toEqual(['7420.json']);
    expect(statSync(join(localServersDir(), '7420.json')).mode & 0o777).toBe(0o600);
    for (const url of ['http://127.0.0.1:7420', 'http://localhost:7420/', 'http://[::1]:7420//']) {
      expect(findLocalServer(url)).toEqual({ url: 'http://127.0.0.1:7420', pid: process.pid, home: '/h/a' });
    }
    expect(findLocalServer('http://127.0.0.1:7421')).toBeNull();
    expect(findLocalServer('http://example.com:7420')).toBeNull();
    unregisterLocalServer('http://localhost:7420/');
    expect(findLocalServer('http://127.0.0.1:7420')).toBeNull();
    expect(findLocalServer()).toBeNull();
  });

  it('drops entries whose process is gone', () => {
    registerLocalServer({ url: 'http://127.0.0.1:7500', pid: deadPid(), home: '/h/dead' });
    expect(findLocalServer('http://127.0.0.1:7500')).toBeNull();
    expect(readdirSync(localServersDir())).toEqual([]);
  });

  it('without a URL, gives the live entry, the most recent of several', () => {
    registerLocalServer({ url: 'http://127.0.0.1:7601', pid: process.pid, home: '/h/old' });
    registerLocalServer({ url: 'http://127.0.0.1:7602', pid: deadPid(), home: '/h/dead' });
    expect(findLocalServer()?.home).toBe('/h/old');
    registerLocalServer({ url: 'http://127.0.0.1:7603', pid: process.pid, home: '/h/new' });
    // mtime resolution may tie within one tick: make the order explicit
    const past = new Date(Date.now() - 60_000);
    utimesSync(join(localServersDir(), '7601.json'), past, past);
    expect(findLocalServer()?.home).toBe('/h/new');
  });

  it('ignores junk in the directory', () => {
    writeFileSync(join(localServersDir(), '7700.json'), 'not json');
    writeFileSync(join(localServersDir(), '7701.json'), JSON.stringify({ url: 'x', pid: -1 }));
    expect(findLocalServer()).toBeNull();
  });

  it('reads the local credential only from a file its owner alone can read', () => {
    const home = join(root, 'home');
    mkdirSync(home);
    expect(localCredential(home)).toBeNull();
    writeFileSync(join(home, 'local-token'), 'ykl_secret\n', { mode: 0o600 });
    expect(localCredential(home)).toBe('ykl_secret');
    chmodSync(join(home, 'local-token'), 0o640);
    expect(localCredential(home)).toBeNull();
  });
});

describe('isAlive', () => {
  it('counts a running process, not a dead one, and not a zombie that waits to be reaped', async () => {
    expect(isAlive(process.pid)).toBe(true);
    expect(isAlive(deadPid())).toBe(false);
    // A background `sleep 0.3` of a shell that has become `sleep 3`, which never reaps it: once it ends, a zombie.
    const parent = spawn('sh', ['-c', 'sleep 0.3 & echo $!; exec sleep 3'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const child = await new Promise<number>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(Number(d))));
    try {
      expect(isAlive(child)).toBe(true);
      for (let i = 0; i < 100 && isAlive(child); i++) await new Promise((r) => setTimeout(r, 20));
      expect(isAlive(child)).toBe(false);
      expect(() => process.kill(child, 0)).not.toThrow(); // its pid still answers: it has exited, not been reaped
    } finally {
      parent.kill('SIGKILL');
    }
  });
});
