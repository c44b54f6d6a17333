import { ToolKind } from '@yoke/protocol';
import { PERMISSION_DIALOG_TITLE, PI_GATE_EXTENSION } from './extension';
import { piExitCode, piToolKind, piToolNames, piToolPath } from './tools';

type Handler = (event: unknown, ctx: unknown) => Promise<unknown>;

/** Loads the generated extension source as Pi would, capturing its `tool_call` handler. */
function gateHandler(): Handler {
  const factory = new Function(PI_GATE_EXTENSION.replace('export default function', 'return function'))() as (pi: {
    on: (event: string, handler: Handler) => void;
  }) => void;
  let handler: Handler | null = null;
  factory({ on: (event, h) => event === 'tool_call' && (handler = h) });
  if (!handler) throw new Error('the extension registered no tool_call handler');
  return handler;
}

describe('pi tool normalization', () => {
  it('maps Pi tool names to canonical kinds, case-sensitively', () => {
    expect(['bash', 'read', 'write', 'edit', 'grep', 'find', 'ls'].map(piToolKind)).toEqual([
      'shell',
      'file_read',
      'file_write',
      'file_edit',
      'search',
      'file_list',
      'file_list',
    ]);
    expect(piToolKind('Bash')).toBe('other:Bash');
    expect(piToolKind('toString')).toBe('other:toString');
    expect(piToolKind('')).toBe('other:unknown');
    for (const name of ['bash', 'Bash', 'my_tool']) expect(ToolKind.safeParse(piToolKind(name)).success).toBe(true);
  });

  it('enables the Pi tools the agent allows', () => {
    expect(piToolNames({ shell: true, files: true })).toEqual(['bash', 'read', 'write', 'edit', 'grep', 'find', 'ls']);
    expect(piToolNames({ shell: true, files: false })).toEqual(['bash']);
    expect(piToolNames({ shell: false, files: false })).toEqual([]);
  });

  it('reads the exit code and path of Pi tool calls', () => {
    expect(piExitCode('(no output)', false)).toBe(0);
    expect(piExitCode('oops\n\nCommand exited with code 3', true)).toBe(3);
    expect(piExitCode('Command aborted', true)).toBeNull();
    expect(piToolPath({ path: 'a.txt', content: 'x' })).toBe('a.txt');
    expect(piToolPath({ command: 'ls' })).toBeNull();
    expect(piToolPath(null)).toBeNull();
  });
});

describe('the generated Pi gate extension', () => {
  const event = { toolCallId: 'c1', toolName: 'bash', input: { command: 'ls' } };
  const ctx = (answer: () => Promise<string | undefined>, hasUI = true) => ({ hasUI, ui: { input: answer } });

  it('asks through an input dialog and lets an allowed call run', async () => {
    const seen: unknown[] = [];
    const result = await gateHandler()(
      event,
      ctx(async (...args: unknown[]) => {
        seen.push(args);
        return JSON.stringify({ behavior: 'allow' });
      }),
    );
    expect(result).toBeUndefined();
    expect(seen).toEqual([[PERMISSION_DIALOG_TITLE, JSON.stringify(event)]]);
  });

  it('blocks with the reason on deny, and fails closed on anything else', async () => {
    const handler = gateHandler();
    const deny = JSON.stringify({ behavior: 'deny', reason: 'no' });
    await expect(
      handler(
        event,
        ctx(async () => deny),
      ),
    ).resolves.toEqual({ block: true, reason: 'permission denied: no' });
    for (const answer of [undefined, '', 'not json', '{"behavior":"ALLOW"}', 'null']) {
      await expect(
        handler(
          event,
          ctx(async () => answer),
        ),
      ).resolves.toMatchObject({ block: true });
    }
    await expect(
      handler(
        event,
        ctx(() => Promise.reject(new Error('boom'))),
      ),
    ).resolves.toMatchObject({ block: true });
    await expect(
      handler(
        event,
        ctx(async () => '{"behavior":"allow"}', false),
      ),
    ).resolves.toMatchObject({ block: true });
  });
});
