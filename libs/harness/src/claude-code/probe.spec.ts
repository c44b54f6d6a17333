import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeModel } from '../../../../test/fixtures/fake-model';

jest.setTimeout(60_000);
it('probe', async () => {
  const fake = await startFakeModel();
  fake.hold('g');
  fake.script([
    {
      match: 'RUN',
      steps: [
        { toolCalls: [{ name: 'Bash', input: { command: 'echo hi > out.txt' } }] },
        { toolCalls: [{ name: 'Bash', input: { command: 'echo ho > out2.txt' } }] },
        { text: 'Done.' },
      ],
    },
    { match: 'AGAIN', steps: [{ text: 'Back.' }] },
    {
      match: 'HOLD',
      steps: [{ toolCalls: [{ name: 'Bash', input: { command: 'sleep 30 & echo $! > pid.txt; wait' } }] }],
    },
  ]);
  const root = mkdtempSync(join(tmpdir(), 'probe-'));
  const ws = join(root, 'ws');
  mkdirSync(ws);
  const home = join(root, 'home');
  mkdirSync(home);
  const child = spawn(
    join(__dirname, '../../../../node_modules/@anthropic-ai/claude-code/bin/claude.exe'),
    [
      '-p',
      '--input-format',
      'stream-json',
      '--output-format',
      'stream-json',
      '--verbose',
      '--include-partial-messages',
      '--permission-prompt-tool',
      'stdio',
      '--model',
      'claude-sonnet-4-5',
      '--setting-sources',
      '',
      '--tools',
      'Bash,Read,Write,Edit,MultiEdit,Glob,Grep,NotebookEdit,WebFetch,WebSearch,TodoWrite,Frob',
    ],
    {
      cwd: ws,
      env: {
        PATH: process.env.PATH!,
        HOME: home,
        CLAUDE_CONFIG_DIR: join(home, '.claude'),
        ANTHROPIC_BASE_URL: fake.anthropicBaseUrl,
        ANTHROPIC_API_KEY: 'k',
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
        DISABLE_TELEMETRY: '1',
        DISABLE_AUTOUPDATER: '1',
        DISABLE_ERROR_REPORTING: '1',
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  const lines: string[] = [];
  let buf = '';
  const w = (m: unknown) => child.stdin.write(JSON.stringify(m) + '\n');
  let results = 0;
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      require('fs').appendFileSync('/tmp/probe-out.jsonl', line.slice(0, 4000) + '\n');
      const m = JSON.parse(line);
      if (m.type === 'control_request' && m.request.subtype === 'hook_callback') {
        const deny = m.request.input.tool_input?.command?.includes('out2');
        w({
          type: 'control_response',
          response: {
            subtype: 'success',
            request_id: m.request_id,
            response: {
              hookSpecificOutput: {
                hookEventName: 'PreToolUse',
                permissionDecision: 'ask',
                permissionDecisionReason: deny ? 'nope' : 'ok',
              },
            },
          },
        });
      }
      if (m.type === 'control_request' && m.request.subtype === 'can_use_tool') {
        const d = JSON.stringify(m.request.input).includes('out2');
        w({
          type: 'control_response',
          response: {
            subtype: 'success',
            request_id: m.request_id,
            response: d ? { behavior: 'deny', message: 'nope2' } : { behavior: 'allow', updatedInput: m.request.input },
          },
        });
      }
      if (m.type === 'result') {
        results++;
        if (results === 1) {
          w({ type: 'user', message: { role: 'user', content: 'HOLD it' }, parent_tool_use_id: null, session_id: '' });
          void new Promise((r) => setTimeout(r, 1500)).then(() =>
            w({ type: 'control_request', request_id: 'int1', request: { subtype: 'interrupt' } }),
          );
        }
        if (results === 2)
          w({ type: 'user', message: { role: 'user', content: 'AGAIN' }, parent_tool_use_id: null, session_id: '' });
        if (results === 3) child.stdin.end();
      }
    }
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => require('fs').appendFileSync('/tmp/probe-err.txt', d));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  w({
    type: 'control_request',
    request_id: 'init_1',
    request: {
      subtype: 'initialize',
      hooks: { PreToolUse: [{ hookCallbackIds: ['gate'], timeout: 86400, onFailure: 'block' }] },
    },
  });
  w({ type: 'user', message: { role: 'user', content: 'RUN it' }, parent_tool_use_id: null, session_id: '' });
  await new Promise((r) => child.on('exit', r));
  writeFileSync('/tmp/probe-out.jsonl', lines.join('\n'));
  writeFileSync(
    '/tmp/probe-req.json',
    JSON.stringify(
      fake.requests.map((r) => ({ path: r.path, body: r.body })),
      null,
      1,
    ),
  );
  console.log(err);
  await fake.close();
});
