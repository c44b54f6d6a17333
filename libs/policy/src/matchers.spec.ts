import { celList, celMap } from '@bufbuild/cel';
import { ActionView } from './view';
import { alternation, CommandPatterns, compileCommandPattern, RegexPool, type Evaluation } from './builtins';
import { actionField, compileCel, guardsHold, PlainMap } from './cel';
import { compilePolicies, decide, initialState } from './index';
import type { DecideContext, PolicyAction, PolicyLevel } from './index';

const ctx: DecideContext = { actor: { id: 'u1', name: 'Ada' }, session: { id: 's1', workspace: '/work/ws' } };

let seed = 7;
const next = (n: number): number => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed % n;
};
const pick = <T>(list: readonly T[]): T => list[next(list.length)];

describe('alternation', () => {
  const SUBJECTS = ['git push origin main', 'curl x | sh', 'abcabc', 'ab', 'nc -l 4444', '', 'A\nB', 'zz', 'qq'];

  it('matches exactly where one of the regexes does', () => {
    const sets = [
      ['git push', 'curl[^|]*\\|\\s*(ba)?sh'],
      ['^ab$', 'x|y', '(?<=a)b'],
      ['nc\\s+-l.*4', '^$', 'A$'],
      ['(a)(b)c', 'z{2}', '[)(|]'],
    ];
    for (const sources of sets) {
      const any = alternation(sources);
      expect(any).not.toBeNull();
      for (const s of SUBJECTS) expect([s, any!.test(s)]).toEqual([s, sources.some((r) => new RegExp(r).test(s))]);
    }
  });

  it('does not combine what would change meaning: backreferences, octal escapes, repeated group names', () => {
    expect(alternation(['(a)b\\1', 'x'])).toBeNull();
    expect(alternation(['x', '\\1'])).toBeNull();
    expect(alternation(['(?<n>a)\\k<n>'])).toBeNull();
    expect(alternation(['(?<n>a)', '(?<n>b)'])).toBeNull();
    expect(alternation([])).toBeNull();
  });
});

describe('CommandPatterns', () => {
  const SOURCES = [
    'rm -rf /',
    'git push --force',
    'mkfs*',
    'dd of=/dev/*',
    'shutdown',
    're:curl[^|]*\\|\\s*(ba)?sh',
    'git push',
    're:nc\\s+-l.*1',
    're:(a)\\1',
    '/usr/bin/env',
    'rm -r',
  ];
  const WORDS = ['rm', '-rf', '-fr', '-r', '-f', '/', '//', 'git', 'push', '--force', 'mkfs.ext4', 'mkfs', 'dd'];
  WORDS.push('of=/dev/sda', 'shutdown', 'curl', '|', 'sh', 'nc', '-l', '1', 'aa', 'env', '$CMD', '__subst__', '');

  it('finds the same first pattern as testing every pattern in order, for any subset of patterns', () => {
    for (let round = 0; round < 300; round++) {
      const sources = SOURCES.filter(() => next(3) > 0);
      const patterns = sources.map(compileCommandPattern);
      const index = new CommandPatterns(patterns);
      for (let k = 0; k < 40; k++) {
        const argv = Array.from({ length: next(6) }, () => pick(WORDS));
        const line = argv.join(' ');
        expect(index.hit(argv, line)?.source).toBe(patterns.find((p) => p.test(argv, line))?.source);
        expect(index.lineHit(line)?.source).toBe(patterns.find((p) => p.regex && p.test([], line))?.source);
      }
    }
  });
});

describe('RegexPool', () => {
  function evaluation(action: PolicyAction): Evaluation {
    const memo = new Map<object, unknown>();
    return {
      view: new ActionView(action),
      state: initialState(),
      ctx,
      celVars: () => ({}),
      once<T>(key: object, compute: () => T): T {
        if (!memo.has(key)) memo.set(key, compute());
        return memo.get(key) as T;
      },
    };
  }

  it('tells whether a regex matches a subject, as testing it on each subject does, and shares a regex by source', () => {
    const sources = ['\\bgit push\\b', '\\bnpm (i|install) ', 'pastebin|gist', '^ls', '(x)\\1', '\\.env$'];
    const pool = new RegexPool();
    const regexes = sources.map((s) => pool.regex(s));
    expect(pool.regex('\\bgit push\\b')).toBe(regexes[0]);
    const commands = ['git push', 'npm i left-pad', 'ls -la', 'echo xx', 'cat .env', 'curl gist.x | sh', 'true'];
    for (let k = 0; k < 300; k++) {
      const command = Array.from({ length: 1 + next(3) }, () => pick(commands)).join(pick([' && ', ' | ', '; ']));
      const action: PolicyAction =
        k % 4 === 0
          ? {
              type: 'tool_call',
              callId: 'c',
              tool: 'file_edit',
              nativeTool: 'Edit',
              input: { file_path: pick(commands) },
            }
          : { type: 'tool_call', callId: 'c', tool: 'shell', nativeTool: 'Bash', input: { command } };
      const e = evaluation(action);
      for (const re of regexes) expect(pool.test(e, re)).toBe(e.view.subjects.some((s) => re.test(s)));
    }
  });
});

describe('expression guards', () => {
  const actions: PolicyAction[] = [
    { type: 'prompt', text: 'hi' },
    { type: 'usage', model: 'gpt-5', costUsd: 0.5, inputTokens: 1, outputTokens: 1 },
    { type: 'tool_call', callId: 'c1', tool: 'shell', nativeTool: 'Bash', input: { command: 'git push' } },
    { type: 'tool_call', callId: 'c2', tool: 'file_edit', nativeTool: 'Edit', input: { file_path: 'a/.env' } },
  ];

  it('are the top-level && terms comparing a string field of action to string literals', () => {
    const guards = (source: string) => compileCel(source).guards;
    expect(guards('action.tool == "shell"')).toEqual([{ field: 'tool', values: ['shell'] }]);
    expect(guards('"usage" == action.type && (action.costUsd > 1.0 && action.model in ["a", "b"])')).toEqual([
      { field: 'type', values: ['usage'] },
      { field: 'model', values: ['a', 'b'] },
    ]);
    expect(guards('action.nativeTool in ["Bash"] && action.command.contains("x")')).toEqual([
      { field: 'nativeTool', values: ['Bash'] },
    ]);
    for (const none of [
      'action.tool == "shell" || action.tool == "search"',
      '!(action.tool == "shell")',
      'action.tool != "shell"',
      'action.command == "ls"',
      'action.tool in ["shell", 1]',
      'action.tool in [action.model]',
      'has(action.tool) && true',
      'state.labels == ["x"]',
      '[1].exists(action, action == 1)',
    ]) {
      expect([none, guards(none)]).toEqual([none, []]);
    }
  });

  it('never rule out an expression that would be true, errors included', () => {
    const expressions = [
      'action.tool == "shell" && action.command.contains("push")',
      'action.tool in ["file_write", "file_edit"] && action.paths.exists(p, p.endsWith(".env"))',
      'action.type == "usage" && action.costUsd > 0.1',
      'action.type == "prompt" && 1 / 0 == 1',
      '1 / 0 == 1 && action.model == "gpt-5"',
      'action.nativeTool == "Bash" && action.tool == "shell" && state.toolCalls >= 0',
    ];
    const policy = (when: string) =>
      compilePolicies([{ level: 'org', origin: 't', spec: { type: 'expr', when, verdict: 'deny', reason: 'r' } }]);
    let ruledOut = 0;
    for (const source of expressions) {
      // `(…) || false` has no guards: it is always evaluated, and gives what the expression gives (an error included).
      const guarded = policy(source);
      const evaluated = policy(`(${source}) || false`);
      expect(compileCel(`(${source}) || false`).guards).toEqual([]);
      const { guards } = compileCel(source);
      for (const action of actions) {
        if (!guardsHold(guards, action)) ruledOut++;
        const d = decide(guarded, initialState(), action, ctx);
        expect([source, action.type, d]).toEqual([source, action.type, decide(evaluated, initialState(), action, ctx)]);
      }
    }
    expect(ruledOut).toBeGreaterThan(10);
    expect(actionField(actions[2], 'tool')).toBe('shell');
    expect(actionField(actions[0], 'model')).toBe('');
  });
});

describe('PlainMap (the variables as CEL reads them)', () => {
  /** The variables converted all at once into real Maps, as the engine did before. */
  const eager = (value: unknown, depth = 2): unknown => {
    if (depth === 0 || typeof value !== 'object' || value === null) return value;
    if (Array.isArray(value)) return celList(value.map((v) => eager(v, depth - 1)) as never[]);
    return celMap(new Map(Object.entries(value).map(([k, v]) => [k, eager(v, depth - 1)])) as never);
  };

  it('gives every expression the same result as maps converted up front', () => {
    const vars = {
      action: {
        type: 'tool_call',
        tool: 'shell',
        command: 'git push',
        commands: ['git push'],
        paths: [],
        input: { a: [1, 'x'], '2': null },
        costUsd: 0,
      },
      state: { toolCalls: 3, toolCallsByKind: { shell: 2, file_read: 0, '1': 5 }, labels: ['a.b'] },
      actor: null,
      session: { id: 's', workspace: '/w', ownerId: null },
    };
    const lazy = { action: new PlainMap(vars.action, 2), state: new PlainMap(vars.state, 2) };
    const lazyVars = {
      action: celMap(lazy.action as never),
      state: celMap(lazy.state as never),
      actor: null,
      session: eager(vars.session),
    };
    const eagerVars = {
      action: eager(vars.action),
      state: eager(vars.state),
      actor: null,
      session: eager(vars.session),
    };
    const expressions = [
      'action.tool == "shell"',
      'action.size() == 8',
      'has(action.input) && has(action.input.a) && !has(action.nope)',
      'action.input.a[1] == "x" && action.input["2"] == null',
      '"command" in action && !("nope" in action)',
      'action.exists(k, k == "paths") && action.all(k, k.size() > 0)',
      'state.toolCallsByKind.shell == 2 && state.toolCallsByKind["1"] == 5',
      'state.toolCallsByKind.exists(k, k == "1")',
      'state.labels == ["a.b"] && action.commands == ["git push"]',
      'action.paths.size() == 0 && state == state',
      'state.toolCallsByKind == {"shell": 2, "file_read": 0, "1": 5}',
      'action.nope == 1',
      'state.toolCallsByKind[1] == 5',
      'session.ownerId == null && actor == null',
    ];
    for (const source of expressions) {
      const program = compileCel(source);
      const run = (v: Record<string, unknown>) => {
        try {
          return program.run(v);
        } catch (e) {
          return `error: ${(e as Error).message}`;
        }
      };
      expect([source, run(lazyVars)]).toEqual([source, run(eagerVars)]);
    }
  });
});

describe('working_dir policies', () => {
  it('give the same opinion, each with its own reason entry, however many there are', () => {
    const entries = [1, 2, 3].map((n) => ({
      level: 'org' as PolicyLevel,
      origin: `o${n}`,
      spec: { type: 'working_dir', name: `wd-${n}` },
    }));
    const one = compilePolicies(entries.slice(0, 1));
    const three = compilePolicies(entries);
    const action: PolicyAction = {
      type: 'tool_call',
      callId: 'c',
      tool: 'shell',
      nativeTool: 'Bash',
      input: { command: 'cd /etc && ls' },
    };
    const d1 = decide(one, initialState(), action, ctx);
    const d3 = decide(three, initialState(), action, ctx);
    expect(d3.verdict).toBe('deny');
    expect(d3.policies).toEqual(['wd-1', 'wd-2', 'wd-3']);
    expect(d3.reasons.map((r) => r.reason)).toEqual([d1.reasons[0].reason, d1.reasons[0].reason, d1.reasons[0].reason]);
  });
});
