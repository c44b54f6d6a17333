/** The slash commands of the terminal UI: their names, arguments and help. */

export const SLASH_COMMANDS = [
  { name: 'help', args: '', help: 'keys and commands' },
  { name: 'share', args: '[viewer|commenter|driver]', help: 'create a share link (default: viewer) and print it' },
  { name: 'fork', args: '[seq]', help: 'fork this session at an item (default: the last) and switch to the fork' },
  { name: 'harness', args: 'NAME', help: 'use another harness from the next turn' },
  { name: 'model', args: 'NAME', help: 'use another model from the next turn' },
  { name: 'cost', args: '', help: 'tokens and cost of this session, per model' },
  { name: 'sessions', args: '', help: 'your recent sessions' },
  { name: 'attach', args: 'ID', help: 'switch to another session' },
  { name: 'policy', args: '', help: "the org's policies" },
  { name: 'expand', args: '', help: "the last tool call's full output (also Ctrl-O)" },
  { name: 'exit', args: '', help: 'leave (the session stays; resume it with yoke chat --resume ID)' },
] as const;

export type SlashName = (typeof SLASH_COMMANDS)[number]['name'];

export type SlashCommand =
  | { name: 'help' | 'cost' | 'sessions' | 'policy' | 'exit' | 'expand' }
  | { name: 'share'; role: 'viewer' | 'commenter' | 'driver' }
  | { name: 'fork'; seq: number | null }
  | { name: 'harness' | 'model'; value: string }
  | { name: 'attach'; sessionId: string };

/** Parses `/name args`; an error message for an unknown command or a bad argument. Null: not a slash command. */
export function parseSlashCommand(text: string): SlashCommand | { error: string } | null {
  const m = /^\/(\S+)\s*([\s\S]*)$/.exec(text.trim());
  if (!m) return null;
  const [, name, rawArg] = m;
  const arg = rawArg.trim();
  switch (name) {
    case 'help':
    case 'cost':
    case 'sessions':
    case 'policy':
    case 'expand':
      return { name };
    case 'exit':
    case 'quit':
      return { name: 'exit' };
    case 'share': {
      const role = arg || 'viewer';
      if (role !== 'viewer' && role !== 'commenter' && role !== 'driver') {
        return { error: '/share takes viewer, commenter or driver' };
      }
      return { name: 'share', role };
    }
    case 'fork': {
      if (!arg) return { name: 'fork', seq: null };
      const seq = Number(arg);
      if (!Number.isInteger(seq) || seq < 1) return { error: '/fork takes an item number (seq), e.g. /fork 12' };
      return { name: 'fork', seq };
    }
    case 'harness':
    case 'model':
      if (!arg || /\s/.test(arg))
        return { error: `/${name} takes one name, e.g. /${name} ${name === 'model' ? 'claude-sonnet-4-5' : 'codex'}` };
      return { name, value: arg };
    case 'attach':
      if (!/^[0-9a-f-]{36}$/i.test(arg)) return { error: '/attach takes a session id' };
      return { name: 'attach', sessionId: arg };
    default:
      return { error: `unknown command /${name}; /help lists them` };
  }
}

export const KEY_HELP: [string, string][] = [
  ['Enter', 'send'],
  ['Alt-Enter, Ctrl-J, or \\ then Enter', 'new line'],
  ['↑ / ↓', 'previous / next prompt (or line)'],
  ['y / n / a', 'approve / deny / always for this session (when asked)'],
  ['Ctrl-O', "expand the last tool call's output"],
  ['Ctrl-C', 'cancel the running turn; on an empty idle prompt: exit'],
  ['Ctrl-D', 'exit (on an empty prompt)'],
  ['Ctrl-A / Ctrl-E, Ctrl-U, Ctrl-W', 'line start / end, delete to line start, delete word'],
];

export function helpText(): string {
  const keyWidth = Math.max(...KEY_HELP.map(([k]) => k.length));
  const cmdWidth = Math.max(...SLASH_COMMANDS.map((c) => `/${c.name} ${c.args}`.trim().length));
  return [
    'Keys',
    ...KEY_HELP.map(([k, v]) => `  ${k.padEnd(keyWidth)}  ${v}`),
    '',
    'Commands',
    ...SLASH_COMMANDS.map((c) => `  ${`/${c.name} ${c.args}`.trim().padEnd(cmdWidth)}  ${c.help}`),
    '',
    'Pasting text with line breaks never sends it: press Enter when it is complete.',
  ].join('\n');
}
