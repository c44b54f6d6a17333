import { helpText, parseSlashCommand } from './slash-commands';

describe('slash commands', () => {
  it('parses commands and their arguments', () => {
    expect(parseSlashCommand('hello')).toBeNull();
    expect(parseSlashCommand('/share')).toEqual({ name: 'share', role: 'viewer' });
    expect(parseSlashCommand('/share driver')).toEqual({ name: 'share', role: 'driver' });
    expect(parseSlashCommand('/fork')).toEqual({ name: 'fork', seq: null });
    expect(parseSlashCommand('/fork 12')).toEqual({ name: 'fork', seq: 12 });
    expect(parseSlashCommand('/model gpt-5')).toEqual({ name: 'model', value: 'gpt-5' });
    expect(parseSlashCommand('/harness codex')).toEqual({ name: 'harness', value: 'codex' });
    expect(parseSlashCommand('/quit')).toEqual({ name: 'exit' });
    const id = '0b8a8a52-57c4-4c43-9d0f-2f1f7b1c1e10';
    expect(parseSlashCommand(`/attach ${id}`)).toEqual({ name: 'attach', sessionId: id });
  });

  it('refuses unknown commands and bad arguments with a message', () => {
    expect(parseSlashCommand('/nope')).toEqual({ error: 'unknown command /nope; /help lists them' });
    expect(parseSlashCommand('/share owner')).toEqual({ error: expect.stringMatching(/viewer, commenter or driver/) });
    expect(parseSlashCommand('/fork x')).toEqual({ error: expect.stringMatching(/item number/) });
    expect(parseSlashCommand('/model')).toEqual({ error: expect.stringMatching(/one name/) });
    expect(parseSlashCommand('/attach 12')).toEqual({ error: '/attach takes a session id' });
  });

  it('documents every command and the multi-line keys', () => {
    const help = helpText();
    for (const name of ['help', 'share', 'fork', 'harness', 'model', 'cost', 'sessions', 'attach', 'policy', 'exit']) {
      expect(help).toContain(`/${name}`);
    }
    expect(help).toContain('Alt-Enter');
  });
});
