import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { Client } from 'pg';
import type { Socket } from 'socket.io-client';
import type { ItemsAck, Session } from '@yoke/protocol';
import { launchBrowser } from '../support/browser';
import { createTestDatabase } from '../support/env';
import { tempDir } from '../support/processes';
import { type Stack, startStack } from '../support/stack';

const AGENT = 'name: helper\nprompt: You help.\nmodel: claude-sonnet-4-5\n';
const DAY = 86_400_000;

/**
 * Retention as a person sees it: content past the org's retention is gone from the session page and the audit log
 * in a real browser — the prompt, the answer and the command show the erasure marker, the audit event's content is
 * marked redacted — while a session under legal hold still shows everything. Team mode (the store is aged in SQL).
 */
describe('web UI: erased content is gone from the pages', () => {
  let stack: Stack;
  let db: { url: string; drop(): Promise<void> };
  let pg: Client;
  let browser: Browser;
  let page: Page;
  let runner: Socket;
  const SECRET_WORD = `zebra-${randomBytes(6).toString('hex')}`;
  const KEPT_WORD = `heron-${randomBytes(6).toString('hex')}`;

  async function sessionWith(title: string, word: string): Promise<Session> {
    const s = (await stack.api<Session>('POST', '/sessions', { agentYaml: AGENT, workspace: tempDir('ws'), title }))
      .body;
    const at = (i: number) => new Date(Date.now() - 60_000 + i * 1000).toISOString();
    const items = [
      { type: 'turn_started' },
      { type: 'user_message', content: [{ type: 'text', text: `please remember ${word}` }] },
      {
        type: 'tool_call',
        callId: 'c1',
        tool: 'shell',
        nativeTool: 'bash',
        input: { command: `echo ${word}` },
        status: 'completed',
      },
      { type: 'tool_result', callId: 'c1', output: `${word}\n`, isError: false },
      { type: 'agent_message', text: `I will remember ${word}.` },
      { type: 'turn_completed', stopReason: 'end_turn' },
    ].map((item, i) => ({ seq: i + 1, turnId: 't1', createdAt: at(i), ...item }));
    const ack: ItemsAck = await runner.emitWithAck('session.items', { sessionId: s.id, items });
    expect(ack).toEqual({ ok: true, lastSeq: items.length });
    return s;
  }

  /** Moves a session and its audit events 30 days back (as the superuser: the log is append-only otherwise). */
  async function age(sessionId: string) {
    const at = new Date(Date.now() - 30 * DAY);
    await pg.query('BEGIN');
    await pg.query('UPDATE sessions SET updated_at = $2 WHERE id = $1', [sessionId, at]);
    await pg.query('ALTER TABLE audit_events DISABLE TRIGGER USER');
    await pg.query('UPDATE audit_events SET at = $2 WHERE session_id = $1', [sessionId, at]);
    await pg.query('ALTER TABLE audit_events ENABLE TRIGGER USER');
    await pg.query('COMMIT');
  }

  async function pageText(path: string, waitFor: string): Promise<string> {
    await page.goto(`${stack.url}${path}`);
    await page.getByText(waitFor).first().waitFor({ timeout: 30_000 });
    return page.locator('body').innerText();
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    stack = await startStack('team', { DATABASE_URL: db.url, YOKE_SECRET_KEY: randomBytes(32).toString('base64url') });
    pg = new Client({ connectionString: db.url });
    await pg.connect();
    runner = (await stack.connectRawRunner({ onInput: (_entry, ack) => ack({ ok: true, applied: true }) })).socket;
    browser = await launchBrowser();
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    // Team mode: the browser carries the admin's API token, as the token field stores it.
    await context.addInitScript(`window.localStorage.setItem('yoke.token', ${JSON.stringify(stack.token)})`);
    page = await context.newPage();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    runner?.close();
    await pg?.end();
    await stack?.stop();
    await db?.drop();
  });

  it('shows the marker where the content was, and keeps a held session whole', async () => {
    const erased = await sessionWith('Past retention', SECRET_WORD);
    const held = await sessionWith('Under legal hold', KEPT_WORD);
    for (const s of [erased, held]) await age(s.id);
    expect(
      (await stack.api('POST', '/org/legal-holds', { scope: 'session', targetId: held.id, reason: 'litigation' }))
        .status,
    ).toBe(201);

    // Before: both sessions show their words.
    expect(await pageText(`/session/?id=${erased.id}`, 'Past retention')).toContain(SECRET_WORD);

    expect((await stack.api('PUT', '/org/retention', { sessionContentDays: 7, auditContentDays: 7 })).status).toBe(200);
    expect((await stack.api('POST', '/org/retention/run')).status).toBe(200);

    const gone = await pageText(`/session/?id=${erased.id}`, 'Past retention');
    expect(gone).not.toContain(SECRET_WORD);
    expect(gone).toMatch(/\[erased by retention on \d{4}-\d{2}-\d{2}\]/);
    const kept = await pageText(`/session/?id=${held.id}`, 'Under legal hold');
    expect(kept).toContain(KEPT_WORD);

    // The audit log page: the erased prompt's content is nowhere; the held one's event is still there.
    const audit = await pageText('/audit/', 'Audit');
    expect(audit).not.toContain(SECRET_WORD);
    expect(
      (await pg.query('SELECT count(*)::int AS n FROM session_items WHERE body::text LIKE $1', [`%${SECRET_WORD}%`]))
        .rows[0].n,
    ).toBe(0);
  });
});
