import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ErrorBody, Item, Session } from '@yoke/protocol';
import { type FakeModel, startFakeModel } from '../fixtures/fake-model';
import { expectEventually } from '../support/env';
import { tempDir } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

/**
 * A session's workspace is an ordinary project directory: `/`, system directories, the home directory, its
 * ancestors, and links to any of them are refused with a reason the user sees, and nothing there changes. The
 * server refuses what the path alone tells (422 `workspace.refused`); the runner refuses the rest before any harness
 * starts (the turn fails with the reason; the session never moves to another directory).
 */

const AGENT = `name: helper
prompt: You are a careful coding assistant.
harness: yoke
model: claude-sonnet-4-5
tools: { shell: true, files: true }
`;
const MARKER = `yoke-workspace-probe-${process.pid}`;
const PROMPT = `please PROBE the workspace`;

/** What an agent could have touched in a directory: its entries named like the marker, and the shell rc files. */
function fingerprint(dir: string): string {
  const rc = ['.bashrc', '.profile', '.bash_profile', '.zshrc'].map((f) => {
    try {
      return createHash('sha256')
        .update(readFileSync(join(dir, f)))
        .digest('hex');
    } catch {
      return 'absent';
    }
  });
  const markers = readdirSync(dir).filter((n) => n.startsWith('yoke-workspace-probe'));
  return JSON.stringify({ rc, markers });
}

describe('workspaces that cannot hurt (embedded mode)', () => {
  let model: FakeModel;
  let stack: Stack;
  const home = realpathSync(homedir());

  beforeAll(async () => {
    model = await startFakeModel();
    // Every turn that reaches the model runs a shell command that would leave a mark in the workspace and the rc file.
    model.script([
      {
        match: 'PROBE',
        steps: [
          { toolCalls: [{ name: 'shell', input: { command: `echo x > ${MARKER}; echo x >> .bashrc` } }] },
          { text: 'probed' },
        ],
      },
      {
        match: 'LOOT',
        steps: [
          {
            toolCalls: [
              {
                name: 'shell',
                input: {
                  command:
                    'cat .ssh/id_rsa .aws/credentials .config/gh/hosts.yml; echo hook > .git/hooks/pre-commit; ' +
                    'echo "[core] fsmonitor = evil" >> .git/config; echo alias >> .bashrc; echo ok > notes.txt',
                },
              },
            ],
          },
          { text: 'looted' },
        ],
      },
    ]);
    stack = await startStack('embedded');
    await stack.startRunner({ env: { ANTHROPIC_BASE_URL: model.anthropicBaseUrl, ANTHROPIC_API_KEY: 'test-key' } });
  });

  afterAll(async () => {
    await stack?.stop();
    await model?.close();
  });

  const create = (workspace: string) =>
    stack.api<Session & ErrorBody>('POST', '/sessions', { agentYaml: AGENT, prompt: PROMPT, workspace });

  async function terminalItem(sessionId: string): Promise<Item & { type: 'turn_failed' | 'turn_completed' }> {
    return expectEventually(async () => {
      const r = await stack.api<{ items: Item[] }>('GET', `/sessions/${sessionId}/items?afterSeq=0`);
      return r.body.items.find((i) => i.type === 'turn_failed' || i.type === 'turn_completed') as
        (Item & { type: 'turn_failed' | 'turn_completed' }) | undefined;
    }, 60_000);
  }

  /** The server refuses with 422 what it can tell from the path; anything else the runner refuses before a harness. */
  async function expectRefused(workspace: string, reason: RegExp): Promise<string> {
    const r = await create(workspace);
    if (r.status === 422) {
      expect(r.body.code).toBe('workspace.refused');
      expect(r.body.message).toMatch(reason);
      return r.body.message;
    }
    expect(r.status).toBe(201);
    const before = model.requests.length;
    const end = await terminalItem(r.body.id);
    expect(end.type).toBe('turn_failed');
    const error = (end as Item & { error: string }).error;
    expect(error).toMatch(reason);
    const items = (await stack.api<{ items: Item[] }>('GET', `/sessions/${r.body.id}/items?afterSeq=0`)).body.items;
    expect(items.some((i) => i.type === 'notice' && i.text.includes('this session cannot run'))).toBe(true);
    expect(items.some((i) => i.type === 'tool_call')).toBe(false);
    expect(model.requests.length).toBe(before); // no harness ever asked the model
    return error;
  }

  it('refuses / and system directories up front, with the reason and a way out', async () => {
    for (const [path, reason] of [
      ['/', /^workspace \/ is the root directory: use a project directory/],
      ['/etc', /^workspace \/etc is a system directory: use a project directory you own/],
      ['/usr/local/src', /is inside the system directory \/usr/],
      ['relative/project', /is not an absolute path/],
      [`${home}/../..`, /contains '\.\.'/],
    ] as const) {
      const r = await create(path);
      expect([r.status, r.body.code]).toEqual([422, 'workspace.refused']);
      expect(r.body.message).toMatch(reason);
    }
  });

  it('refuses the home directory, its ancestors and a symlink to it; nothing there changes', async () => {
    const dirs = [home, dirname(home), '/', '/etc'];
    const before = dirs.map(fingerprint);

    const homeError = await expectRefused(home, /is your home directory: use a project directory inside it/);
    expect(homeError).toBe(
      `workspace ${home} is your home directory: use a project directory inside it, e.g. ${home}/my-project`,
    );
    await expectRefused(dirname(home), /(contains your home directory|is the root directory|is a system directory)/);
    await expectRefused('/', /is the root directory/);
    await expectRefused('/etc', /is a system directory/);

    const links = tempDir('yoke-links');
    symlinkSync(home, join(links, 'to-home'));
    const linkError = await expectRefused(join(links, 'to-home'), /resolves to .*, which is your home directory/);
    expect(linkError).toContain(`workspace ${join(links, 'to-home')} resolves to ${home}`);
    symlinkSync('/etc', join(links, 'to-etc'));
    await expectRefused(join(links, 'to-etc'), /resolves to \/etc, which is a system directory/);

    // A workspace that does not exist is refused, not created.
    const missing = join(links, 'not-yet');
    await expectRefused(missing, /does not exist: create the project directory first/);
    expect(existsSync(missing)).toBe(false);

    expect(dirs.map(fingerprint)).toEqual(before);
    for (const dir of dirs) expect(existsSync(join(dir, MARKER))).toBe(false);
  });

  it('an ordinary project directory works, and its rc file stays as it was', async () => {
    const ws = tempDir('yoke-ws');
    mkdirSync(join(ws, 'src'));
    writeFileSync(join(ws, '.bashrc'), 'export PROJECT=1\n');
    const r = await create(`${ws}/`);
    expect(r.status).toBe(201);
    const end = await terminalItem(r.body.id);
    expect([end.type, (end as { error?: string }).error]).toEqual(['turn_completed', undefined]);
    expect(existsSync(join(ws, MARKER))).toBe(true);
    expect(readFileSync(join(ws, '.bashrc'), 'utf8')).toBe('export PROJECT=1\n'); // read-only inside Omnibox

    // The mandatory deny list holds inside any workspace: credentials hidden, hooks, git config and rc files read-only.
    const loot = tempDir('yoke-loot');
    const secrets = {
      '.ssh/id_rsa': 'SSH-SECRET-1',
      '.aws/credentials': 'AWS-SECRET-2',
      '.config/gh/hosts.yml': 'GH-3',
    };
    for (const [file, content] of Object.entries(secrets)) {
      mkdirSync(dirname(join(loot, file)), { recursive: true });
      writeFileSync(join(loot, file), content);
    }
    mkdirSync(join(loot, '.git/hooks'), { recursive: true });
    writeFileSync(join(loot, '.git/config'), '[core]\n');
    writeFileSync(join(loot, '.bashrc'), 'export A=1\n');
    const looted = await stack.api<Session>('POST', '/sessions', { agentYaml: AGENT, prompt: 'LOOT', workspace: loot });
    expect(looted.status).toBe(201);
    expect((await terminalItem(looted.body.id)).type).toBe('turn_completed');
    const seen = (await stack.api<{ items: Item[] }>('GET', `/sessions/${looted.body.id}/items?afterSeq=0`)).body.items;
    const output = JSON.stringify(seen.filter((i) => i.type === 'command' || i.type === 'tool_result'));
    expect(seen.some((i) => i.type === 'command' && JSON.stringify(i).includes('cat .ssh/id_rsa'))).toBe(true);
    for (const content of Object.values(secrets)) expect(output).not.toContain(content);
    expect(readFileSync(join(loot, 'notes.txt'), 'utf8')).toBe('ok\n');
    expect(existsSync(join(loot, '.git/hooks/pre-commit'))).toBe(false);
    expect(readFileSync(join(loot, '.git/config'), 'utf8')).toBe('[core]\n');
    expect(readFileSync(join(loot, '.bashrc'), 'utf8')).toBe('export A=1\n');

    // A fork names its own workspace: the same rules, refused before anything is stored.
    const count = async () => (await stack.api<{ sessions: unknown[] }>('GET', '/sessions?limit=100')).body.sessions;
    const before = (await count()).length;
    for (const path of ['/', '/etc', '/proc/self']) {
      const fork = await stack.api<ErrorBody>('POST', `/sessions/${r.body.id}/fork`, { seq: 1, workspace: path });
      expect([path, fork.status, fork.body.code]).toEqual([path, 422, 'workspace.refused']);
    }
    expect((await count()).length).toBe(before);
  });
});
