import { createHarnessAdapter } from '../registry';
import { acpCommand, acpToolKind } from './tools';

describe('acp tools', () => {
  it('splits the agent command and maps ACP tool kinds', () => {
    expect(acpCommand('acp:gemini --acp')).toEqual(['gemini', '--acp']);
    expect(acpCommand("acp:node '/a b/agent.js'")).toEqual(['node', '/a b/agent.js']);
    expect(acpCommand('acp:')).toBeNull();
    expect(acpCommand('codex')).toBeNull();
    expect(acpToolKind('execute')).toBe('shell');
    expect(acpToolKind('edit')).toBe('file_edit');
    expect(acpToolKind('think')).toBe('other:think');
    expect(acpToolKind(undefined)).toBe('other:other');
    expect(createHarnessAdapter('acp:gemini --acp')).toMatchObject({ name: 'acp:gemini --acp' });
    expect(() => createHarnessAdapter('acp:')).toThrow(expect.objectContaining({ code: 'agent.invalid' }));
  });
});
