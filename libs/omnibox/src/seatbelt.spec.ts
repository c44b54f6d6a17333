import { buildSeatbeltProfile, sbString, seatbeltCommand } from './seatbelt';

const base = { workspace: '/Users/dev/ws', home: '/var/yoke/s1/home', tmp: '/var/yoke/s1/tmp' };

/** The s-expressions of a profile, one per line, without comments or blanks. */
const rules = (profile: string): string[] =>
  profile
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith(';;'))
    .map((l) => l.trim());

describe('buildSeatbeltProfile', () => {
  it('denies by default and runs programs', () => {
    const p = buildSeatbeltProfile(base);
    expect(rules(p).slice(0, 2)).toEqual(['(version 1)', '(deny default)']);
    expect(p).toContain('(allow process-exec process-fork)');
  });

  it('makes the workspace, home and tmp read-write, and nothing else', () => {
    const p = buildSeatbeltProfile(base);
    const writes = rules(p).filter((l) => l.startsWith('(allow') && l.includes('file-write'));
    expect(writes).toEqual([
      '(allow file-write-data (literal "/dev/null") (literal "/dev/tty") (regex #"^/dev/fd/"))',
      '(allow file-read* file-write* (subpath "/Users/dev/ws") (subpath "/var/yoke/s1/home") (subpath "/var/yoke/s1/tmp"))',
    ]);
    // the host home is never granted
    expect(p).not.toMatch(/\/Users\/dev"\)|\.ssh/);
  });

  it('denies writes to git hooks/config and shell rc files after the workspace grant (later rules win)', () => {
    const p = buildSeatbeltProfile(base);
    const lines = rules(p);
    const grant = lines.findIndex((l) => l.includes('(subpath "/Users/dev/ws")') && l.startsWith('(allow'));
    const hooks = lines.findIndex((l) => l.startsWith('(deny file-write*') && l.includes('.git/hooks'));
    expect(hooks).toBeGreaterThan(grant);
    expect(lines[hooks]).toBe(
      '(deny file-write* (subpath "/Users/dev/ws/.git/hooks") (subpath "/Users/dev/ws/.git/config") ' +
        '(subpath "/Users/dev/ws/.git/config.worktree") (subpath "/Users/dev/ws/.git/info"))',
    );
    const rc = lines.find((l) => l.startsWith('(deny file-write*') && l.includes('.bashrc'));
    expect(rc).toContain('(literal "/var/yoke/s1/home/.bashrc")');
    expect(rc).toContain('(literal "/var/yoke/s1/home/.zshrc")');
  });

  it('denies Unix sockets and every network destination but the proxy port on localhost', () => {
    const p = buildSeatbeltProfile({ ...base, proxyPort: 43128 });
    expect(rules(p)).toEqual(
      expect.arrayContaining([
        '(deny network-bind (local unix-socket))',
        '(deny network-outbound (remote unix-socket))',
        '(allow network-outbound (remote ip "localhost:43128"))',
        '(deny network-inbound)',
      ]),
    );
    expect(rules(p).filter((l) => l.startsWith('(allow network'))).toHaveLength(1);
    expect(buildSeatbeltProfile(base)).not.toContain('(allow network');
  });

  it('never lets a process debug or inspect another one', () => {
    const p = buildSeatbeltProfile(base);
    expect(p).toContain('(deny mach-priv-task-port)');
    expect(p).toContain('(deny process-info* (target others))');
    expect(p).toContain('(allow signal (target same-sandbox))');
  });

  it('adds code paths read-only', () => {
    const p = buildSeatbeltProfile({ ...base, readPaths: ['/opt/node', '/Users/dev/.yoke/app/'] });
    expect(p).toContain('(allow file-read* (subpath "/opt/node") (subpath "/Users/dev/.yoke/app"))');
  });

  it('refuses relative paths, .. and control characters; escapes quotes', () => {
    expect(() => buildSeatbeltProfile({ ...base, workspace: 'ws' })).toThrow(/absolute/);
    expect(() => buildSeatbeltProfile({ ...base, home: '/a/../b' })).toThrow(/'\.\.'/);
    expect(() => buildSeatbeltProfile({ ...base, tmp: '/a\n(allow default)' })).toThrow(/control/);
    expect(() => buildSeatbeltProfile({ ...base, proxyPort: 70000 })).toThrow(/TCP port/);
    expect(sbString('/a "b"\\c')).toBe('"/a \\"b\\"\\\\c"');
    const p = buildSeatbeltProfile({ ...base, workspace: '/w/"x") (allow default' });
    expect(p).toContain('(subpath "/w/\\"x\\") (allow default")');
    expect(rules(p)).not.toContain('(allow default)');
  });

  it('wraps a command for sandbox-exec', () => {
    expect(seatbeltCommand('(version 1)', 'node', ['-v'])).toEqual({
      command: '/usr/bin/sandbox-exec',
      args: ['-p', '(version 1)', 'node', '-v'],
    });
  });
});
