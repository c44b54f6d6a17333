import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_AGENT_YAML } from '@yoke/protocol';
import { AGENT_YAML_LIMITS, AgentSpecError, loadAgentFile, parseAgentYaml } from './agent-spec';

function issuesOf(fn: () => unknown): AgentSpecError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AgentSpecError);
    return e as AgentSpecError;
  }
  throw new Error('expected an AgentSpecError');
}

describe('parseAgentYaml', () => {
  it('parses a valid spec and fills the defaults', () => {
    const spec = parseAgentYaml('name: reviewer\nprompt: You review diffs.\nmodel: claude-sonnet-4-5\n');
    expect(spec).toEqual({
      name: 'reviewer',
      prompt: 'You review diffs.',
      model: 'claude-sonnet-4-5',
      harness: 'yoke',
      maxSteps: 50,
      tools: { shell: true, files: true, web: false, mcp: {} },
      agents: {},
      policies: [],
      sandbox: { network: { allow: [] }, credentials: [] },
    });
  });

  it('reports an unknown field at its own line, nested ones too', () => {
    const text = [
      'name: reviewer',
      'prompt: hi',
      'tools:',
      '  shell: true',
      '  teleport: true',
      'colour: red',
      '',
    ].join('\n');
    const err = issuesOf(() => parseAgentYaml(text, 'agents/reviewer.yaml'));
    expect(err.code).toBe('agent.invalid');
    expect(err.details).toEqual({
      issues: [
        {
          file: 'agents/reviewer.yaml',
          line: 5,
          column: 3,
          path: 'tools.teleport',
          message: 'unknown field "teleport"',
        },
        { file: 'agents/reviewer.yaml', line: 6, column: 1, path: 'colour', message: 'unknown field "colour"' },
      ],
    });
    expect(err.message).toBe(
      'agents/reviewer.yaml:5:3: tools.teleport: unknown field "teleport"\n' +
        'agents/reviewer.yaml:6:1: colour: unknown field "colour"',
    );
  });

  it('reports a wrong type at the value, and a missing field at its parent', () => {
    const text = 'name: reviewer\nprompt: hi\nmaxSteps: lots\nagents:\n  coder:\n    harness: codex\n';
    const err = issuesOf(() => parseAgentYaml(text, 'a.yaml'));
    expect(err.issues).toEqual([
      { file: 'a.yaml', line: 3, column: 11, path: 'maxSteps', message: expect.stringContaining('expected number') },
      { file: 'a.yaml', line: 5, column: 3, path: 'agents.coder.prompt', message: expect.stringContaining('missing') },
    ]);
  });

  it('reports malformed YAML with its position', () => {
    const err = issuesOf(() => parseAgentYaml('name: a\nprompt: [1,\n  foo: : x\n', 'bad.yaml'));
    expect(err.issues.length).toBeGreaterThan(0);
    expect(err.issues[0]).toMatchObject({ file: 'bad.yaml', line: 3, path: '' });
    expect(err.message).toMatch(/^bad\.yaml:3:\d+: /);
  });

  it('rejects an empty document', () => {
    const err = issuesOf(() => parseAgentYaml('# nothing here\n', 'empty.yaml'));
    expect(err.message).toBe('empty.yaml:1:1: (root): agent file is empty');
  });

  it('rejects a document that is not a mapping', () => {
    const err = issuesOf(() => parseAgentYaml('- a\n- b\n'));
    expect(err.issues[0]).toMatchObject({ file: '<agent>', line: 1, column: 1, path: '(root)' });
  });
});

describe('parseAgentYaml limits', () => {
  it('refuses hostile YAML as agent.invalid at 1:1, naming the agent file', () => {
    const tenOf = (node: string) => `[${Array(10).fill(node).join(', ')}]`;
    const bomb = ['name: bomb', 'prompt: hi', `a: &a ${tenOf('x')}`, `b: &b ${tenOf('*a')}`, `c: ${tenOf('*b')}`];
    const cases: [string, string][] = [
      [bomb.join('\n'), 'agent file expands aliases more than 100 times (an alias bomb?)'],
      [`name: a\nprompt: ${'['.repeat(1_500)}\n`, 'agent file nests collections more than 64 levels deep'],
      [
        `name: big\nprompt: "${'x'.repeat(MAX_AGENT_YAML)}"\n`,
        'agent file is too large (262165 characters; the limit is 262144)',
      ],
    ];
    for (const [text, message] of cases) {
      const err = issuesOf(() => parseAgentYaml(text, 'hostile.yaml'));
      expect(err.code).toBe('agent.invalid');
      expect(err.message).toBe(`hostile.yaml:1:1: ${message}`);
    }
  });

  it("holds the API's limit and reads documents nested up to 64 levels", () => {
    expect(AGENT_YAML_LIMITS).toEqual({ maxLength: MAX_AGENT_YAML, maxDepth: 64, maxAliases: 100 });
    const text = `name: a\nprompt: hi\nagents: { x: { prompt: ${'['.repeat(61)}${']'.repeat(61)} } }\n`;
    expect(() => parseAgentYaml(text)).toThrow(/agents\.x\.prompt: /); // a schema error, not a depth one
    expect(parseAgentYaml('name: &n a\nprompt: *n\nmodel: *n\n')).toMatchObject({ prompt: 'a', model: 'a' });
  });
});

describe('loadAgentFile', () => {
  it('reads and parses a file, naming it in errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'yoke-agent-'));
    const good = join(dir, 'good.yaml');
    const bad = join(dir, 'bad.yaml');
    await writeFile(good, 'name: ok\nprompt: hi\n');
    await writeFile(bad, 'name: ok\n');
    await expect(loadAgentFile(good)).resolves.toMatchObject({ name: 'ok', prompt: 'hi' });
    await expect(loadAgentFile(bad)).rejects.toThrow(`${bad}:1:1: prompt: missing required field`);
    await expect(loadAgentFile(join(dir, 'none.yaml'))).rejects.toMatchObject({ code: 'agent.invalid' });
  });
});
