import { MAX_POLICY_YAML } from '@yoke/protocol';
import { compilePolicies, formatPolicyIssues, loadErrors, parsePolicyYaml } from './index';
import { POLICY_YAML_LIMITS } from './yaml';

const errorsOf = (text: string) => {
  const r = parsePolicyYaml(text, 'policies.yaml');
  if (r.ok) throw new Error('expected errors');
  return r.errors;
};

describe('parsePolicyYaml', () => {
  it('reads a list, or `policies:` with one, with defaults applied', () => {
    const text = [
      'policies:',
      '  - type: cost_budget',
      '    ask_at: [3]',
      '    max: 5',
      '  - type: after',
      '    if_earlier: { tool: shell, match: "npm (i|install) " }',
      '    then: { tool: shell, match: "git push" }',
      '  - type: deny_commands',
      '    patterns: ["git push --force"]',
      '',
    ].join('\n');
    const r = parsePolicyYaml(text, 'p.yaml');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.policies.map((p) => p.type)).toEqual(['cost_budget', 'after', 'deny_commands']);
    expect(r.policies[1]).toMatchObject({ verdict: 'ask' });
    expect(loadErrors(compilePolicies(r.policies.map((spec) => ({ level: 'org', spec, origin: 'p.yaml' }))))).toEqual(
      [],
    );
    expect(parsePolicyYaml('- type: working_dir\n', 'p.yaml')).toEqual({
      ok: true,
      policies: [{ type: 'working_dir' }],
    });
    expect(parsePolicyYaml('', 'p.yaml')).toEqual({ ok: true, policies: [] });
    expect(parsePolicyYaml('# nothing\n', 'p.yaml')).toEqual({ ok: true, policies: [] });
    expect(parsePolicyYaml('policies: []\n', 'p.yaml')).toEqual({ ok: true, policies: [] });
  });

  it('malformed YAML: file, line and column', () => {
    const errors = errorsOf('- type: cost_budget\n  max: [1, 2\n- type: x\n');
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]).toMatchObject({ file: 'policies.yaml', path: '' });
    expect(errors[0].line).toBeGreaterThanOrEqual(2);
    const tab = errorsOf('- type: working_dir\n\t name: x\n');
    expect(tab[0].line).toBe(2);
  });

  it('unknown field: its path and the line of the key', () => {
    const errors = errorsOf('- type: working_dir\n- type: cost_budget\n  ask_at: [1]\n  maxx: 5\n');
    expect(errors).toEqual([
      { file: 'policies.yaml', line: 4, col: 3, path: '1.maxx', message: 'unknown field "maxx"' },
    ]);
    const nested = errorsOf(
      'policies:\n  - type: after\n    if_earlier:\n      tool: shell\n      regex: x\n    then: {}\n',
    );
    expect(nested).toEqual([
      { file: 'policies.yaml', line: 5, col: 7, path: 'policies.0.if_earlier.regex', message: 'unknown field "regex"' },
    ]);
    const top = errorsOf('policies: []\npolicy: []\n');
    expect(top[0]).toMatchObject({
      line: 2,
      path: 'policy',
      message: expect.stringContaining('unknown field "policy"'),
    });
  });

  it('wrong type: the path and line of the value', () => {
    const errors = errorsOf('- type: cost_budget\n  ask_at:\n    - 1\n    - three\n  max: -5\n');
    expect(errors.map((e) => [e.path, e.line])).toEqual([
      ['0.ask_at.1', 4],
      ['0.max', 5],
    ]);
    expect(errors[0].message).toMatch(/expected number/);
    expect(errors[1].message).toMatch(/>=0/);
    const kind = errorsOf('- type: max_tool_calls\n  per_kind:\n    bash: 3\n');
    expect(kind).toEqual([
      { file: 'policies.yaml', line: 3, col: 11, path: '0.per_kind.bash', message: 'unknown tool kind "bash"' },
    ]);
  });

  it('missing field: the line of the policy', () => {
    const errors = errorsOf('- type: working_dir\n- type: expr\n  verdict: deny\n');
    expect(errors).toEqual([
      expect.objectContaining({ path: '1.when', line: 2, message: expect.stringMatching(/missing required field/) }),
    ]);
  });

  it('unknown or missing policy type: the line of `type`', () => {
    const errors = errorsOf('- type: working_dir\n- type: cost_budgett\n  max: 1\n- max: 2\n- 7\n');
    expect(errors.map((e) => [e.path, e.line, e.message.split(' (')[0]])).toEqual([
      ['1.type', 2, 'unknown policy type "cost_budgett"'],
      ['2.type', 4, 'missing policy type'],
      ['3', 5, 'missing policy type'],
    ]);
    expect(errors[0].message).toContain('one of: cost_budget, after, max_tool_calls');
  });

  it('reports every problem, sorted by line, and formats them one a line', () => {
    const errors = errorsOf('- type: egress\n  allow: "github.com"\n- type: nope\n- type: working_dir\n  x: 1\n');
    expect(errors.map((e) => e.line)).toEqual([2, 3, 5]);
    expect(formatPolicyIssues(errors).split('\n')).toEqual([
      expect.stringMatching(/^policies\.yaml:2:10: 0\.allow: /),
      expect.stringMatching(/^policies\.yaml:3:9: 1\.type: unknown policy type "nope"/),
      'policies.yaml:5:3: 2.x: unknown field "x"',
    ]);
  });

  it('refuses a root that is not a list and a `policies` that is not a list', () => {
    expect(errorsOf('just text\n')[0]).toMatchObject({ path: '(root)', line: 1 });
    expect(errorsOf('policies:\n  type: cost_budget\n')[0]).toMatchObject({
      path: 'policies',
      message: 'expected a list of policies',
    });
  });

  it('refuses hostile YAML at 1:1, naming the policy file', () => {
    const ten = (node: string) => `[${Array(10).fill(node).join(', ')}]`;
    const bomb = [`- &a ${ten('x')}`, `- &b ${ten('*a')}`, `- ${ten('*b')}`];
    const cases: [string, string][] = [
      [bomb.join('\n'), 'policy file expands aliases more than 100 times (an alias bomb?)'],
      [`policies: ${'{a: '.repeat(1_500)}1\n`, 'policy file nests collections more than 64 levels deep'],
      [`- "${'x'.repeat(MAX_POLICY_YAML)}"\n`, 'policy file is too large (262149 characters; the limit is 262144)'],
    ];
    for (const [text, message] of cases) {
      expect(errorsOf(text)).toEqual([{ file: 'policies.yaml', line: 1, col: 1, path: '', message }]);
    }
    expect(POLICY_YAML_LIMITS).toEqual({ maxLength: MAX_POLICY_YAML, maxDepth: 64, maxAliases: 100 });
  });
});
