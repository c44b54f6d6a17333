import {
  buildBwrapArgs,
  type BwrapOptions,
  CREDENTIAL_PATHS,
  denyListFor,
  type PathKind,
  SHELL_RC_FILES,
} from './bwrap';

const base: BwrapOptions = {
  workspace: '/tmp/ws',
  command: '/usr/bin/node',
  args: ['agent.js', '--flag'],
  env: { PATH: '/usr/bin:/bin', HOME: '/home/yoke', ANTHROPIC_API_KEY: 'yoke-secret-anthropic-abc' },
  system: {
    dirs: ['/usr'],
    symlinks: [
      { path: '/bin', target: 'usr/bin' },
      { path: '/lib', target: 'usr/lib' },
    ],
    etc: ['/etc/ssl', '/etc/ld.so.cache'],
  },
  generatedEtc: { passwd: '/run/x/passwd', group: '/run/x/group', hosts: '/run/x/hosts' },
  empty: { file: '/run/x/empty', dir: '/run/x/empty.d' },
  seccompFd: 3,
};

/** The argv as (flag, operands) triples, to assert on order without caring about the rest. */
const indexOf = (args: string[], ...seq: string[]): number =>
  args.findIndex((_, i) => seq.every((s, j) => args[i + j] === s));

describe('buildBwrapArgs', () => {
  const args = buildBwrapArgs(base);

  it('unshares every namespace, dies with its parent, runs in a new session and blocks nested user namespaces', () => {
    for (const flag of [
      '--unshare-user',
      '--unshare-pid',
      '--unshare-ipc',
      '--unshare-uts',
      '--unshare-net',
      '--unshare-cgroup-try',
      '--die-with-parent',
      '--new-session',
      '--disable-userns',
    ]) {
      expect(args).toContain(flag);
    }
    expect(args).not.toContain('--share-net');
    expect(indexOf(args, '--uid', '1000')).toBeGreaterThanOrEqual(0);
    expect(indexOf(args, '--gid', '1000')).toBeGreaterThanOrEqual(0);
  });

  it('binds system dirs and only the listed /etc entries read-only, with generated passwd/group/hosts', () => {
    expect(indexOf(args, '--ro-bind', '/usr', '/usr')).toBeGreaterThanOrEqual(0);
    expect(indexOf(args, '--symlink', 'usr/bin', '/bin')).toBeGreaterThanOrEqual(0);
    expect(indexOf(args, '--ro-bind', '/etc/ssl', '/etc/ssl')).toBeGreaterThanOrEqual(0);
    expect(indexOf(args, '--ro-bind', '/run/x/passwd', '/etc/passwd')).toBeGreaterThanOrEqual(0);
    expect(indexOf(args, '--ro-bind', '/run/x/hosts', '/etc/hosts')).toBeGreaterThanOrEqual(0);
    expect(args).not.toContain('/etc');
    expect(args).not.toContain('/etc/shadow');
    expect(args.filter((a) => a === '--bind')).toHaveLength(1); // only the workspace is writable
    expect(indexOf(args, '--proc', '/proc')).toBeGreaterThanOrEqual(0);
    expect(indexOf(args, '--dev', '/dev')).toBeGreaterThanOrEqual(0);
    expect(indexOf(args, '--tmpfs', '/tmp')).toBeGreaterThanOrEqual(0);
  });

  it('binds the workspace read-write after /tmp so a workspace under /tmp survives the tmpfs', () => {
    const ws = indexOf(args, '--bind', '/tmp/ws', '/tmp/ws');
    expect(ws).toBeGreaterThan(indexOf(args, '--tmpfs', '/tmp'));
    expect(indexOf(args, '--chdir', '/tmp/ws')).toBeGreaterThan(ws);
  });

  it('gives a private tmpfs home with only the harness config, and shell rc files as empty read-only files', () => {
    const withHome = buildBwrapArgs({
      ...base,
      homeBinds: [
        { source: '/srv/cfg/.claude.json', dest: '.claude.json' },
        { source: '/srv/cfg/sessions', dest: '/home/yoke/.claude', readOnly: false },
      ],
    });
    const home = indexOf(withHome, '--tmpfs', '/home/yoke');
    expect(home).toBeGreaterThanOrEqual(0);
    expect(indexOf(withHome, '--ro-bind', '/srv/cfg/.claude.json', '/home/yoke/.claude.json')).toBeGreaterThan(home);
    expect(indexOf(withHome, '--bind', '/srv/cfg/sessions', '/home/yoke/.claude')).toBeGreaterThan(home);
    for (const rc of SHELL_RC_FILES) {
      expect(indexOf(withHome, '--ro-bind', '/run/x/empty', `/home/yoke/${rc}`)).toBeGreaterThan(home);
    }
    // Binds are nodev: a /dev/null stand-in makes every login shell print "Permission denied" for its profile.
    expect(withHome).not.toContain('/dev/null');
    expect(() => buildBwrapArgs({ ...base, homeBinds: [{ source: '/x', dest: '/etc/passwd' }] })).toThrow(
      /outside the home/,
    );
  });

  it('re-binds protected workspace paths read-only after the workspace', () => {
    const protectedArgs = buildBwrapArgs({ ...base, readOnlyOverlays: ['/tmp/ws/.git/hooks', '/tmp/ws/.git/config'] });
    const ws = indexOf(protectedArgs, '--bind', '/tmp/ws', '/tmp/ws');
    expect(indexOf(protectedArgs, '--ro-bind', '/tmp/ws/.git/hooks', '/tmp/ws/.git/hooks')).toBeGreaterThan(ws);
    expect(indexOf(protectedArgs, '--ro-bind', '/tmp/ws/.git/config', '/tmp/ws/.git/config')).toBeGreaterThan(ws);
  });

  it('clears the environment and sets only the pass-list, then runs the command after --', () => {
    const clear = args.indexOf('--clearenv');
    expect(clear).toBeGreaterThanOrEqual(0);
    expect(indexOf(args, '--setenv', 'PATH', '/usr/bin:/bin')).toBeGreaterThan(clear);
    expect(indexOf(args, '--setenv', 'ANTHROPIC_API_KEY', 'yoke-secret-anthropic-abc')).toBeGreaterThan(clear);
    expect(args.filter((a) => a === '--setenv')).toHaveLength(3);
    expect(indexOf(args, '--seccomp', '3')).toBeGreaterThanOrEqual(0);
    expect(args.slice(args.indexOf('--'))).toEqual(['--', '/usr/bin/node', 'agent.js', '--flag']);
  });

  it('binds code paths read-only by default', () => {
    const withCode = buildBwrapArgs({ ...base, binds: [{ source: '/opt/yoke/node_modules' }] });
    expect(indexOf(withCode, '--ro-bind', '/opt/yoke/node_modules', '/opt/yoke/node_modules')).toBeGreaterThanOrEqual(
      0,
    );
  });

  it('rejects relative paths, .. and bad env names', () => {
    expect(() => buildBwrapArgs({ ...base, workspace: 'ws' })).toThrow(/absolute/);
    expect(() => buildBwrapArgs({ ...base, workspace: '/tmp/../etc' })).toThrow(/\.\./);
    expect(() => buildBwrapArgs({ ...base, env: { 'A=B': 'x' } })).toThrow(/invalid environment/);
    expect(() => buildBwrapArgs({ ...base, system: { ...base.system, etc: ['/root/.ssh'] } })).toThrow(/not an \/etc/);
  });

  it('covers hidden paths with the empty file or directory, after the workspace and its read-only overlays', () => {
    const hiding = buildBwrapArgs({
      ...base,
      readOnlyOverlays: ['/tmp/ws/.git/config'],
      hidden: [
        { path: '/tmp/ws/.ssh', isDir: true },
        { path: '/tmp/ws/.netrc', isDir: false },
      ],
    });
    const overlay = indexOf(hiding, '--ro-bind', '/tmp/ws/.git/config', '/tmp/ws/.git/config');
    expect(overlay).toBeGreaterThan(indexOf(hiding, '--bind', '/tmp/ws', '/tmp/ws'));
    expect(indexOf(hiding, '--ro-bind', '/run/x/empty.d', '/tmp/ws/.ssh')).toBeGreaterThan(overlay);
    expect(indexOf(hiding, '--ro-bind', '/run/x/empty', '/tmp/ws/.netrc')).toBeGreaterThan(overlay);
  });

  it('keeps code that lies inside the workspace read-only: re-bound after the workspace', () => {
    const inside = buildBwrapArgs({ ...base, workspace: '/srv/src', binds: [{ source: '/srv/src/yoke' }] });
    const last = inside.length - 3 - indexOf([...inside].reverse(), '/srv/src/yoke', '/srv/src/yoke', '--ro-bind');
    expect(last).toBeGreaterThan(indexOf(inside, '--bind', '/srv/src', '/srv/src'));
  });

  it("refuses a workspace that would shadow the sandbox's own mounts", () => {
    const support = [{ source: '/tmp/yoke-omnibox-1/abc', dest: '/run/yoke' }];
    for (const workspace of [
      '/',
      '/run',
      '/run/yoke',
      '/run/yoke/x',
      '/proc/1/root',
      '/dev',
      '/etc/ws',
      '/home/yoke',
      '/home/yoke/p',
      '/home',
      '/tmp',
      '/var/tmp',
      '/var',
      '/usr',
    ]) {
      expect(() => buildBwrapArgs({ ...base, workspace, binds: support })).toThrow(/shadow/);
    }
    expect(() =>
      buildBwrapArgs({ ...base, workspace: '/srv/ws', binds: [{ source: '/srv/s', dest: '/opt/s/in' }] }),
    ).not.toThrow();
    expect(() =>
      buildBwrapArgs({ ...base, workspace: '/opt/s', binds: [{ source: '/srv/s', dest: '/opt/s/in' }] }),
    ).toThrow(/shadow the sandbox's own \/opt\/s\/in/);
    expect(() => buildBwrapArgs({ ...base, workspace: '/tmp/ws/x', home: '/tmp/ws' })).toThrow(/shadow/);
    expect(() => buildBwrapArgs({ ...base, workspace: '/srv/w', binds: support })).not.toThrow();
  });
});

describe('denyListFor', () => {
  const tree =
    (paths: Record<string, PathKind>) =>
    (rel: string): PathKind =>
      paths[rel] ?? null;

  it('hides credentials and makes rc files and git hooks/config read-only in the workspace', () => {
    const list = denyListFor(
      '/w',
      tree({
        '.ssh': 'dir',
        '.aws': 'dir',
        '.netrc': 'file',
        '.config/gh': 'dir',
        '.bashrc': 'file',
        '.profile': 'file',
        '.git/hooks': 'dir',
        '.git/config': 'file',
      }),
      ['.env', 'src'],
      'workspace',
    );
    expect(list.hidden).toEqual([
      { path: '/w/.ssh', isDir: true },
      { path: '/w/.aws', isDir: true },
      { path: '/w/.config/gh', isDir: true },
      { path: '/w/.netrc', isDir: false },
    ]);
    expect(list.readOnly).toEqual(['/w/.bashrc', '/w/.profile', '/w/.git/hooks', '/w/.git/config']);
  });

  it('hides .env files of code dirs (not of the workspace), and nothing that is absent or a symlink', () => {
    const list = denyListFor(
      '/opt/yoke',
      tree({ '.env': 'file', '.env.local': 'file', '.gnupg': 'dir' }),
      ['.env', '.env.local', '.envrc', 'environment', 'dist'],
      'code',
    );
    expect(list.hidden).toEqual([
      { path: '/opt/yoke/.gnupg', isDir: true },
      { path: '/opt/yoke/.env', isDir: false },
      { path: '/opt/yoke/.env.local', isDir: false },
    ]);
    expect(list.readOnly).toEqual([]);
    expect(denyListFor('/w', tree({}), [], 'workspace')).toEqual({ hidden: [], readOnly: [] });
    expect(CREDENTIAL_PATHS).toEqual(expect.arrayContaining(['.ssh', '.aws', '.config/gh', '.gnupg', '.netrc']));
  });
});
