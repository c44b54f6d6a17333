import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Approval, Item, Session } from '@yoke/protocol';
import { expectEventually } from '../support/env';
import { CLI_MAIN, tempDir } from '../support/processes';
import { HAS_TMUX, TmuxTerminal } from '../support/tmux';
import { type CollabStack, type Member, startCollabStack } from './collab-support';

const PLAIN_AGENT = `name: helper
prompt: You are a careful coding assistant.
harness: yoke
model: claude-sonnet-4-5
tools: { shell: true, files: true }
`;
const ASK_AGENT = `${PLAIN_AGENT}policies:
  - { type: ask_on_tools, name: ask-shell, tools: [shell] }
`;

/**
 * The interactive terminal UI (`yoke chat`), driven for real: the CLI runs in a tmux pane against a team-mode server,
 * a runner and the yoke harness on the fake model; the test types and presses keys and reads what tmux shows.
 * Teammates act through the REST API with their own tokens, as the web does.
 */
(HAS_TMUX ? describe : describe.skip)('terminal UI: yoke chat in a real terminal', () => {
  let c: CollabStack;
  let bob: Member;
  let carol: Member;
  const terminals: TmuxTerminal[] = [];
  let ws: string;

  const api: CollabStack['stack']['api'] = (...args) => c.stack.api(...args);
  const cli = `${process.execPath} ${CLI_MAIN}`;

  function terminal(width = 120, height = 40, token?: string): TmuxTerminal {
    const env: NodeJS.ProcessEnv = { ...c.stack.cliEnv, ...(token ? { YOKE_TOKEN: token } : {}) };
    delete env.TMUX;
    const t = TmuxTerminal.start({ cwd: ws, env, width, height });
    terminals.push(t);
    return t;
  }

  async function items(id: string): Promise<Item[]> {
    return (await api<{ items: Item[] }>('GET', `/sessions/${id}/items`)).body.items;
  }

  /** The newest session of the owner (the one the terminal just started). */
  async function newestSession(): Promise<Session> {
    return expectEventually(async () => {
      const page = (await api<{ sessions: Session[] }>('GET', '/sessions?limit=1')).body;
      return page.sessions[0];
    });
  }

  /** Starts `yoke chat` in `t` and waits for its prompt. */
  async function chat(t: TmuxTerminal, args: string): Promise<void> {
    await t.waitFor('$');
    t.type(`${cli} chat ${args}`);
    t.press('Enter');
    await t.waitFor('Type a message', 60_000);
  }

  /** Types a prompt and sends it (the text first, then Enter once it shows: two reads, as a person types). */
  async function send(t: TmuxTerminal, text: string): Promise<void> {
    t.type(text);
    await t.waitFor(text);
    t.press('Enter');
  }

  beforeAll(async () => {
    c = await startCollabStack();
    bob = await c.addMember('Bob');
    carol = await c.addMember('Carol');
    ws = tempDir('yoke-tui-ws');
    writeFileSync(join(ws, 'plain.yaml'), PLAIN_AGENT);
    writeFileSync(join(ws, 'ask.yaml'), ASK_AGENT);
  });

  afterAll(async () => {
    for (const t of terminals) t.kill();
    c?.model.release('slow');
    await c?.stop();
  });

  it('holds a conversation of three turns: answers rendered as markdown, a tool call on one line, a paste', async () => {
    c.model.script([
      { match: 'TURN1', steps: [{ text: 'The **first** answer is `alpha`.\n\n```js\nconst answer = 1;\n```' }] },
      { match: 'TURN2', steps: [{ text: '## Second\n\n- one item\n- another item' }] },
      {
        match: 'TURN3',
        steps: [
          { toolCalls: [{ name: 'shell', input: { command: 'echo tool-output-gamma' } }] },
          { text: 'Third answer: the shell said gamma.' },
        ],
      },
    ]);
    const t = terminal();
    await chat(t, 'plain.yaml');

    await send(t, 'TURN1 hello');
    const first = await t.waitFor((s) => s.includes('The first answer is alpha.') && !s.includes('working…'), 60_000);
    expect(first).toContain('› TURN1 hello');
    expect(first).toContain('const answer = 1;');
    expect(first).not.toContain('**first**');

    await send(t, 'TURN2 go on');
    // Streamed text shows as it comes; the finished message is rendered as markdown.
    const second = await t.waitFor((s) => s.includes('another item') && !s.includes('working…'), 60_000);
    expect(second).toContain('Second');
    expect(second).not.toContain('## Second');

    // A pasted block with a line break stays in the prompt until Enter.
    t.paste('TURN3 first pasted line\nsecond pasted line');
    const pasted = await t.waitFor('second pasted line');
    expect(pasted).toContain('› TURN3 first pasted line');
    const session = await newestSession();
    expect((await items(session.id)).filter((i) => i.type === 'user_message')).toHaveLength(2);
    t.press('Enter');
    const third = await t.waitFor('Third answer: the shell said gamma.', 60_000);
    expect(third).toMatch(/✓ shell +\$ echo tool-output-gamma +[\d.]+m?s/);
    expect(third).toContain('⎿ tool-output-gamma');
    expect(third).toMatch(/claude-sonnet-4-5 · [\d.]+k? tok · \$\d/);

    const texts = (await items(session.id)).flatMap((i) =>
      i.type === 'user_message' ? i.content.map((p) => (p.type === 'text' ? p.text : '')) : [],
    );
    expect(texts).toEqual(['TURN1 hello', 'TURN2 go on', 'TURN3 first pasted line\nsecond pasted line']);
  });

  it('answers approvals inline (y, and a: always for this session); a teammate deciding from the web closes the question with their name', async () => {
    c.model.script([
      {
        match: 'APPROVE1',
        steps: [{ toolCalls: [{ name: 'shell', input: { command: 'echo approved-ran' } }] }, { text: 'Ran it.' }],
      },
      {
        match: 'ALWAYS',
        steps: [{ toolCalls: [{ name: 'shell', input: { command: 'echo always-ran' } }] }, { text: 'Done always.' }],
      },
      {
        match: 'APPROVE2',
        steps: [
          { toolCalls: [{ name: 'shell', input: { command: 'echo teammate-ran' } }] },
          { text: 'Bob let it run.' },
        ],
      },
    ]);
    const t = terminal();
    await chat(t, 'ask.yaml');
    const session = await newestSession();

    await send(t, 'APPROVE1 please');
    const asked = await t.waitFor('Approve? y yes · n no', 60_000);
    expect(asked).toContain('? approval needed · ask-shell');
    t.type('y');
    const ran = await t.waitFor('Ran it.', 60_000);
    expect(ran).toContain(`✓ approved by ${c.owner.name}`);
    expect(ran).toMatch(/✓ shell +\$ echo approved-ran/);
    expect(ran).toContain('⎿ approved-ran');
    expect(ran).not.toContain('Approve? y yes');

    // Bob may approve this session's actions; he answers from the web (the REST API) while the terminal asks.
    await api('POST', `/sessions/${session.id}/shares/invites`, {
      userId: bob.userId,
      role: 'driver',
      canApprove: true,
    });
    await send(t, 'APPROVE2 again');
    await t.waitFor('Approve? y yes · n no', 60_000);
    const pending = await expectEventually(async () =>
      (await api<Approval[]>('GET', `/sessions/${session.id}/approvals`)).body.find((a) => a.status === 'pending'),
    );
    const decided = await api(
      'POST',
      `/sessions/${session.id}/approvals/${pending.approvalId}`,
      { decision: 'approve' },
      bob.token,
    );
    expect(decided.status).toBe(200);
    const closed = await t.waitFor('Bob let it run.', 60_000);
    expect(closed).toContain('✓ approved by Bob');
    expect(closed).not.toContain('Approve? y yes');
    expect(closed).toContain('⎿ teammate-ran');

    // "Always for this session": the same command later runs without asking.
    await send(t, 'ALWAYS first time');
    await t.waitFor('a always (this session)', 60_000);
    t.type('a');
    const always = await t.waitFor('Done always.', 60_000);
    expect(always).toContain(`✓ approved for this session by ${c.owner.name}`);
    await t.waitFor((s) => !s.includes('working…'));
    await send(t, 'ALWAYS second time');
    await expectEventually(
      async () => (await items(session.id)).filter((i) => i.type === 'turn_completed').length === 4,
      60_000,
    );
    expect((await items(session.id)).filter((i) => i.type === 'approval_request')).toHaveLength(3);
  });

  it("shows a co-driver's prompt with their name and who watches; /share, /cost, /fork; a viewer's attach is read-only", async () => {
    c.model.script([
      { match: 'MINE', steps: [{ text: 'Answer to the owner.' }] },
      { match: 'CODRIVER', steps: [{ text: 'Answer to Carol.' }] },
    ]);
    const t = terminal();
    await chat(t, 'plain.yaml');
    await send(t, 'MINE first');
    await t.waitFor('Answer to the owner.', 60_000);
    const session = await newestSession();
    await api('POST', `/sessions/${session.id}/shares/invites`, { userId: carol.userId, role: 'driver' });
    const sent = await api('POST', `/sessions/${session.id}/messages`, { text: 'CODRIVER from the web' }, carol.token);
    expect(sent.status).toBe(202);
    const screen = await t.waitFor('Answer to Carol.', 60_000);
    expect(screen).toContain('Carol › CODRIVER from the web');
    expect(screen).toContain('› MINE first');
    // Carol watches too: the status line names who else is there, while she is connected.
    const watcher = c.stack.webSocket(carol.token);
    await new Promise<void>((resolve) =>
      watcher.once('connect', () =>
        watcher.emit('session.join', { sessionId: session.id, afterSeq: 0 }, () => resolve()),
      ),
    );
    await t.waitFor('watching: Carol');
    watcher.close();

    // Slash commands: a share link, the cost, a fork the terminal switches to.
    t.press('C-l');
    await send(t, '/share driver');
    await t.waitFor(`${c.stack.url}/join/?token=`);
    await send(t, '/cost');
    await t.waitFor(/total: [\d.]+k? in \/ \d+ out, \$\d/);
    await send(t, '/fork');
    const forked = await t.waitFor(/forked [0-9a-f-]{36} at item \d+: now in ([0-9a-f-]{36})/);
    const forkId = /now in ([0-9a-f-]{36})/.exec(forked)![1];
    expect(forkId).not.toBe(session.id);
    expect((await api<Session>('GET', `/sessions/${forkId}`)).body.forkedFrom).toMatchObject({ sessionId: session.id });
    expect(forked).toContain(`yoke · `);
    expect(forked).toContain(forkId);

    // Bob, a viewer of the original, opens it with `yoke attach`: everything, and a read-only prompt.
    await api('POST', `/sessions/${session.id}/shares/invites`, { userId: bob.userId, role: 'viewer' });
    const v = terminal(120, 40, bob.token);
    await v.waitFor('$');
    v.type(`${cli} attach ${session.id}`);
    v.press('Enter');
    const viewing = await v.waitFor(
      (s) => s.includes('Answer to Carol.') && s.includes('read-only: you are a viewer'),
      60_000,
    );
    expect(viewing).toContain('Carol › CODRIVER from the web');
    await send(v, 'let me in');
    await v.waitFor('you are a viewer of this session: you cannot send prompts');
  });

  it('Ctrl-C cancels the running turn, Ctrl-C again exits; yoke chat --resume shows the history and goes on', async () => {
    c.model.hold('slow');
    c.model.script([
      // First: the cancelled prompt had no answer, so the harness may send both prompts as one user message.
      { match: 'AFTER', steps: [{ text: 'Resumed and answered.' }] },
      { match: 'SLOW', steps: [{ holdUntil: 'slow', text: 'This answer never arrives.' }] },
    ]);
    const t = terminal();
    await chat(t, 'plain.yaml');
    await send(t, 'SLOW take your time');
    await c.model.waitForHold('slow');
    await t.waitFor('working…');
    t.press('C-c');
    const cancelled = await t.waitFor('turn cancelled', 60_000);
    expect(cancelled).not.toContain('This answer never arrives.');
    await t.waitFor((s) => !s.includes('working…'));
    t.press('C-c');
    const hint = /The session stays\. Resume it with:\n {2}yoke chat --resume ([0-9a-f-]{36})/;
    const id = hint.exec(await t.waitFor(hint))![1];
    const session = (await api<Session>('GET', `/sessions/${id}`)).body;
    expect(session.status).not.toBe('archived');

    t.press('C-l');
    await t.waitFor((s) => !s.includes('turn cancelled'));
    t.type(`${cli} chat --resume ${id}`);
    t.press('Enter');
    const resumed = await t.waitFor('turn cancelled', 60_000);
    expect(resumed).toContain('› SLOW take your time');
    await t.waitFor('Type a message');
    await send(t, 'AFTER resuming');
    await t.waitFor('Resumed and answered.', 60_000);
    expect((await items(id)).filter((i) => i.type === 'user_message')).toHaveLength(2);
  });

  it('renders legibly in a narrow 60-column terminal', async () => {
    c.model.script([
      {
        match: 'NARROW',
        steps: [
          { toolCalls: [{ name: 'shell', input: { command: `echo ${'narrow-output-'.repeat(8)}` } }] },
          {
            text:
              'A long paragraph that has to wrap several times in a narrow terminal without breaking the layout ' +
              'of the prompt or the status line.\n\n```sh\necho a-very-long-command-line-that-is-wider-than-sixty-columns --flag\n```',
          },
        ],
      },
    ]);
    const t = terminal(60, 40);
    await chat(t, 'plain.yaml');
    await send(t, 'NARROW please');
    const screen = await t.waitFor((s) => s.includes('--flag') && !s.includes('working…'), 60_000);
    const lines = t.lines();
    for (const line of lines) expect(Array.from(line).length).toBeLessThanOrEqual(60);
    // Words are wrapped whole, the tool call keeps one line with its status, and the prompt box is intact.
    const flat = lines.join(' ').replace(/\s+/g, ' ');
    expect(flat).toContain(
      'A long paragraph that has to wrap several times in a narrow terminal without breaking the layout of the prompt',
    );
    expect(screen).toContain('a-very-long-command-line-that-is-wider-than-sixty-columns');
    expect(lines.some((l) => /^✓ shell \$ echo narrow-output-.*… +[\d.]+m?s$/.test(l))).toBe(true);
    expect(lines.filter((l) => /^╭─+╮$/.test(l))).toHaveLength(1);
    expect(lines.filter((l) => /^╰─+╯$/.test(l))).toHaveLength(1);
    expect(lines.some((l) => /^yoke · claude-sonnet-4-5 · /.test(l))).toBe(true);
  });
});
