import { checkWorkspacePath } from './workspace';

const refusal = (path: string): string | null => {
  const r = checkWorkspacePath(path);
  return r.ok ? null : r.refusal.message;
};

describe('checkWorkspacePath', () => {
  it('accepts project directories, normalized', () => {
    expect(checkWorkspacePath('/home/ada/project')).toEqual({ ok: true, path: '/home/ada/project' });
    expect(checkWorkspacePath('/tmp/yoke-ws-1//./src/')).toEqual({ ok: true, path: '/tmp/yoke-ws-1/src' });
    for (const ok of [
      '/srv/app',
      '/opt/work/x',
      '/var/tmp/ws',
      '/var/lib/projects/a',
      '/root/project',
      '/mnt/c/code',
    ]) {
      expect(refusal(ok)).toBeNull();
    }
  });

  it('refuses relative paths, .. segments and control characters', () => {
    expect(refusal('project')).toBe(
      'workspace project is not an absolute path: give the full path of a project directory, e.g. /home/you/my-project',
    );
    expect(refusal('~/project')).toMatch(/not an absolute path/);
    expect(refusal('/home/ada/../../etc')).toMatch(/contains '\.\.'/);
    expect(refusal('/tmp/a\0b')).toMatch(/control character/);
    expect(refusal('/tmp/a\nb')).toMatch(/control character/);
  });

  it('refuses the root and system directories, and anything inside the system trees', () => {
    expect(refusal('/')).toBe(
      'workspace / is the root directory: use a project directory instead, e.g. /home/you/my-project',
    );
    expect(refusal('//')).toMatch(/root directory/);
    expect(refusal('/./')).toMatch(/root directory/);
    for (const dir of ['/etc', '/etc/', '/usr', '/tmp', '/var', '/var/tmp', '/opt', '/srv', '/home', '/proc', '/run']) {
      expect(refusal(dir)).toMatch(/is a system directory/);
    }
    expect(refusal('/etc/nginx')).toBe(
      'workspace /etc/nginx is inside the system directory /etc: use a project directory you own instead, e.g. /home/you/my-project',
    );
    for (const inside of [
      '/usr/local/src/app',
      '/proc/self/cwd',
      '/sys/fs',
      '/dev/shm/x',
      '/run/yoke',
      '/run/yoke-ca/x',
      '/boot/efi',
      '/var/run/x',
    ]) {
      expect(refusal(inside)).toMatch(/is inside the system directory/);
    }
  });
});
