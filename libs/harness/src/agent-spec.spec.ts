import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { AGENT_YAML_LIMITS, AgentSpecError, loadAgentFile, nestingDepth, parseAgentYaml } from './agent-spec';

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

/** Nine aliases, each of the one before nine times: 9^9 strings once expanded. */
export const ALIAS_BOMB = [
  'name: bomb',
  'prompt: hi',
  'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
  ...'bcdefghi'.split('').map((c, i) => {
    const prev = 'abcdefgh'[i];
    return `${c}: &${c} [${Array(9).fill(`*${prev}`).join(',')}]`;
  }),
  '',
].join('\n');

describe('parseAgentYaml limits', () => {
  it('refuses an alias bomb as agent.invalid, naming it', () => {
    const err = issuesOf(() => parseAgentYaml(ALIAS_BOMB, 'bomb.yaml'));
    expect(err.code).toBe('agent.invalid');
    expect(err.message).toBe('bomb.yaml:1:1: agent file expands aliases more than 100 times (an alias bomb?)');
  });

  it('still reads a few aliases', () => {
    expect(parseAgentYaml('name: &n a\nprompt: *n\nmodel: *n\n')).toMatchObject({ prompt: 'a', model: 'a' });
  });

  it('refuses a document over the size limit before parsing it', () => {
    const text = `name: big\nprompt: "${'x'.repeat(AGENT_YAML_LIMITS.maxLength)}"\n`;
    const err = issuesOf(() => parseAgentYaml(text, 'big.yaml'));
    expect(err.message).toMatch(/^big\.yaml:1:1: agent file is too large \(\d+ characters; the limit is 262144\)$/);
  });

  it.each([
    ['flow sequences', (n: number) => `name: a\nprompt: ${'['.repeat(n)}${']'.repeat(n)}\n`],
    ['flow mappings', (n: number) => `name: a\nprompt: ${'{a: '.repeat(n)}1${'}'.repeat(n)}\n`],
    ['compact sequences', (n: number) => `name: a\nprompt:\n${'- '.repeat(n)}x\n`],
    [
      'indented mappings',
      (n: number) => Array.from({ length: Math.min(n, 700) }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n'),
    ],
    ['an unclosed flow', (n: number) => `name: a\nprompt: ${'['.repeat(n)}\n`],
  ])('refuses deep %s quickly, again and again (the composer would overflow the stack)', (_, deep) => {
    const started = Date.now();
    for (let i = 0; i < 5; i++) {
      for (const n of [65, 1_500, 100_000]) {
        const err = issuesOf(() => parseAgentYaml(deep(n).slice(0, AGENT_YAML_LIMITS.maxLength), 'deep.yaml'));
        expect(err.message).toBe('deep.yaml:1:1: agent file nests collections more than 64 levels deep');
      }
    }
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('accepts nesting up to the limit', () => {
    const text = `name: a\nprompt: hi\nagents: { x: { prompt: ${'['.repeat(61)}${']'.repeat(61)} } }\n`;
    expect(nestingDepth(text, 64)).toBe(64);
    expect(() => parseAgentYaml(text)).toThrow(/agents\.x\.prompt: /); // a schema error, not a depth one
  });
});

describe('nestingDepth', () => {
  const depthOf = (v: unknown): number =>
    v !== null && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v).map(depthOf)) : 0;

  it.each([
    ['a: 1\nb: 2\n', 1],
    ['a:\n  b:\n    c: 1\n', 3],
    ['a:\n- 1\n- 2\nb: 3\n', 2],
    ['a:\n- b:\n  - c\n', 4],
    ['- - - x\n', 3],
    ['a: [1, {b: [c]}]\n', 4],
    ['a: |\n  [[[[\n  - - -\nb:\n  c: "[[[["\n', 2],
    ['? a\n: b\n', 1],
    ['# [[[[\na: 1 # {{{{\n', 1],
  ])('counts %j as %i', (text, depth) => {
    expect(nestingDepth(text, 100)).toBe(depth);
  });

  it('never counts less than the depth of what the document holds, in any style', () => {
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)),
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(fc.string({ minLength: 1, maxLength: 4 }), tie('node'), { maxKeys: 3 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, fc.boolean(), fc.constantFrom(1, 2, 4), (v, flow, indent) => {
        const text = stringify(v, { indent, collectionStyle: flow ? 'flow' : 'block' });
        expect(nestingDepth(text, 1_000)).toBeGreaterThanOrEqual(depthOf(v));
      }),
      { numRuns: 500 },
    );
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
