import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createTestDatabase } from '../support/env';
import { type Stack, startStack } from '../support/stack';

const AGENT = 'name: helper\nprompt: You are a careful coding assistant.\nharness: yoke\n';

/** "Billion laughs": nine aliases, each of the one before nine times, 9^9 strings once expanded. */
function aliasBomb(prefix: string): string {
  const lines = [`${prefix}a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]`];
  for (let i = 1; i < 9; i++)
    lines.push(
      `a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(',')}]`,
    );
  return `${lines.join('\n')}\n`;
}
const AGENT_BOMB = aliasBomb(AGENT);
/** A policy list whose first item holds the bomb. */
const POLICY_BOMB = `- type: working_dir\n  x:\n${aliasBomb('')
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}`;
const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

describe('YAML alias bombs, oversized and too-deep YAML are a 422 everywhere YAML is read (team)', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let stack: Stack;
  let pg: Client;

  beforeAll(async () => {
    db = await createTestDatabase();
    stack = await startStack('team', { DATABASE_URL: db.url });
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });

  afterAll(async () => {
    await pg?.end();
    await stack?.stop();
    await db?.drop();
  });

  const counts = async () => {
    const { rows } = await pg.query<{ sessions: string; policies: string }>(
      'SELECT (SELECT count(*) FROM sessions) AS sessions, (SELECT count(*) FROM org_policies) AS policies',
    );
    return rows[0];
  };

  it('refuses each with the module’s own 422 and stores nothing', async () => {
    const put = await stack.api('PUT', '/policies', { yaml: '- { type: deny_commands, patterns: ["rm -rf /"] }\n' });
    expect(put.status).toBe(200);
    const before = await counts();
    expect(before.policies).toBe('1');
    const cases: [string, string, unknown, string, RegExp][] = [
      ['POST', '/sessions', { agentYaml: AGENT_BOMB }, 'agent.invalid', /aliases more than 100 times/],
      ['POST', '/sessions', { agentYaml: AGENT, policiesYaml: POLICY_BOMB }, 'policy.invalid', /alias/],
      ['PUT', '/policies', { yaml: POLICY_BOMB }, 'policy.invalid', /aliases more than 100 times/],
      ['POST', '/policies/dry-run', { yaml: POLICY_BOMB, sessionIds: [randomUUID()] }, 'policy.invalid', /alias/],
      // Deep nesting would overflow the parser's stack (and, twice in a row, has crashed the process).
      ['POST', '/sessions', { agentYaml: `${AGENT}x: ${deep(100_000)}` }, 'agent.invalid', /more than 64 levels/],
      ['POST', '/sessions', { agentYaml: `${AGENT}x: ${deep(1_500)}` }, 'agent.invalid', /more than 64 levels/],
      ['PUT', '/policies', { yaml: deep(1_500) }, 'policy.invalid', /more than 64 levels/],
      ['POST', '/sessions', { agentYaml: AGENT, policiesYaml: deep(1_500) }, 'policy.invalid', /64 levels/],
      // Oversized YAML: the parser refuses it with a 422 that says so, in every place YAML is read.
      ['POST', '/sessions', { agentYaml: `${AGENT}#${'x'.repeat(300_000)}\n` }, 'agent.invalid', /too large/],
      ['POST', '/sessions', { agentYaml: AGENT, policiesYaml: `#${'x'.repeat(300_000)}\n` }, 'policy.invalid', /large/],
      ['PUT', '/policies', { yaml: `#${'x'.repeat(300_000)}\n` }, 'policy.invalid', /too large/],
    ];
    for (const [method, path, body, code, message] of cases) {
      const r = await stack.api<{ code: string; message: string }>(method, path, body);
      expect({ method, path, status: r.status, code: r.body.code }).toEqual({ method, path, status: 422, code });
      expect(r.body.message).toMatch(message);
    }
    expect(await counts()).toEqual(before);
    expect((await stack.api<{ version: number; count: number }>('GET', '/policies')).body).toMatchObject({
      version: 1,
      count: 1,
    });
    expect((await fetch(`${stack.url}/health`)).status).toBe(200);
  });

  it('the editor check lists the problem instead of failing', async () => {
    const r = await stack.api<{ ok: boolean; issues: { message: string }[] }>('POST', '/policies/validate', {
      yaml: POLICY_BOMB,
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      ok: false,
      issues: [expect.objectContaining({ message: expect.stringMatching(/alias/) })],
    });
  });
});
