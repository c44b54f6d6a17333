import { chownSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { checkWorkspace, type WorkspaceContext } from './workspace-rules';

describe('checkWorkspace (real directories)', () => {
  let root: string;
  let ctx: WorkspaceContext;
  const uid = process.getuid?.() ?? 0;
  const message = (path: string, c = ctx): string | null => {
    const r = checkWorkspace(path, c);
    return r.ok ? null : r.refusal.message;
  };

  beforeEach(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'yoke-wsrules-')));
    ctx = { home: join(root, 'home', 'ada'), runnerHome: join(root, 'home', 'ada', '.yoke', 'runner'), uid };
    mkdirSync(join(ctx.runnerHome, 'workspaces', 's1'), { recursive: true });
    mkdirSync(join(ctx.home, 'project'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('accepts a project directory, returning its real path', () => {
    expect(checkWorkspace(join(ctx.home, 'project'), ctx)).toEqual({ ok: true, path: join(ctx.home, 'project') });
    expect(checkWorkspace(`${ctx.home}//project/`, ctx)).toEqual({ ok: true, path: join(ctx.home, 'project') });
    symlinkSync(join(ctx.home, 'project'), join(root, 'link'));
    expect(checkWorkspace(join(root, 'link'), ctx)).toEqual({ ok: true, path: join(ctx.home, 'project') });
  });

  it('refuses the home directory and its ancestors, with a hint inside it', () => {
    expect(message(ctx.home)).toBe(
      `workspace ${ctx.home} is your home directory: use a project directory inside it, e.g. ${ctx.home}/my-project`,
    );
    expect(message(dirname(ctx.home))).toMatch(new RegExp(`contains your home directory ${ctx.home}: use a project`));
    expect(message(root)).toMatch(/contains your home directory/);
  });

  it('refuses symlinks that lead to a refused place, naming where they lead', () => {
    symlinkSync(ctx.home, join(root, 'to-home'));
    expect(message(join(root, 'to-home'))).toBe(
      `workspace ${root}/to-home resolves to ${ctx.home}, which is your home directory: ` +
        `use a project directory inside it, e.g. ${ctx.home}/my-project`,
    );
    symlinkSync('/etc', join(root, 'to-etc'));
    expect(message(join(root, 'to-etc'))).toMatch(/resolves to \/etc, which is a system directory/);
    symlinkSync('/usr/share', join(root, 'to-usr'));
    expect(message(join(root, 'to-usr'))).toMatch(
      /resolves to \/usr\/share, which is inside the system directory \/usr/,
    );
    symlinkSync('/', join(root, 'to-root'));
    expect(message(join(root, 'to-root'))).toMatch(/resolves to \/, which is the root directory/);
  });

  it("refuses the runner's own directory, inside it and above it", () => {
    expect(message(join(ctx.runnerHome, 'workspaces', 's1'))).toMatch(
      new RegExp(`is inside the runner's own directory ${ctx.runnerHome}: use a project directory outside it`),
    );
    expect(message(ctx.runnerHome)).toMatch(/is inside the runner's own directory/);
    expect(message(dirname(ctx.runnerHome))).toMatch(/contains the runner's own directory/);
  });

  it('refuses what is not an existing directory', () => {
    expect(message(join(ctx.home, 'nope'))).toBe(
      `workspace ${ctx.home}/nope does not exist: create the project directory first ` +
        `(mkdir -p ${ctx.home}/nope), or pick an existing one`,
    );
    writeFileSync(join(ctx.home, 'file.txt'), 'x');
    expect(message(join(ctx.home, 'file.txt'))).toMatch(/is not a directory/);
    expect(message(join(ctx.home, 'file.txt', 'below'))).toMatch(/does not exist/);
    symlinkSync(join(root, 'gone'), join(root, 'dangling'));
    expect(message(join(root, 'dangling'))).toMatch(/does not exist/);
  });

  it('refuses the lexical cases before touching the filesystem', () => {
    expect(message('/')).toMatch(/is the root directory/);
    expect(message('relative/dir')).toMatch(/not an absolute path/);
    expect(message(`${ctx.home}/../ada/project`)).toMatch(/contains '\.\.'/);
    expect(message('/etc')).toMatch(/is a system directory/);
    expect(message('/proc/self/root')).toMatch(/inside the system directory \/proc/);
    expect(message('/tmp')).toMatch(/is a system directory/);
  });

  it('refuses /root unless it is the home directory, and the real home by its own name', () => {
    expect(message('/root', { ...ctx, home: '/nonexistent-home' })).toMatch(/workspace \/root is a system directory/);
    expect(message('/root', { ...ctx, home: '/root' })).toBe(
      'workspace /root is your home directory: use a project directory inside it, e.g. /root/my-project',
    );
  });

  (uid === 0 ? it : it.skip)('refuses a directory another user owns (needs root to make one)', () => {
    const theirs = join(root, 'theirs');
    mkdirSync(theirs);
    chownSync(theirs, 65534, 65534);
    expect(message(theirs)).toMatch(
      /is owned by uid 65534, not by the runner's user \(uid 0\): use a project directory/,
    );
  });
});
