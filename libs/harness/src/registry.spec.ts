import { ClaudeCodeAdapter } from './claude-code/adapter';
import { ClaudeSdkAdapter } from './claude-sdk/adapter';
import { CodexAdapter } from './codex/adapter';
import { OpenAIAgentsAdapter } from './openai-agents/adapter';
import { PiAdapter } from './pi/adapter';
import { createHarnessAdapter, registeredHarnesses } from './registry';
import { YokeHarnessAdapter } from './yoke/adapter';

describe('createHarnessAdapter', () => {
  it('returns the adapter of each registered harness, under its own name, with declared capabilities', () => {
    expect(createHarnessAdapter('yoke')).toBeInstanceOf(YokeHarnessAdapter);
    expect(createHarnessAdapter('claude-code')).toBeInstanceOf(ClaudeCodeAdapter);
    expect(createHarnessAdapter('claude-sdk')).toBeInstanceOf(ClaudeSdkAdapter);
    expect(createHarnessAdapter('codex')).toBeInstanceOf(CodexAdapter);
    expect(createHarnessAdapter('pi')).toBeInstanceOf(PiAdapter);
    expect(createHarnessAdapter('openai-agents')).toBeInstanceOf(OpenAIAgentsAdapter);
    for (const name of registeredHarnesses()) {
      const adapter = createHarnessAdapter(name);
      expect(adapter.name).toBe(name);
      expect(adapter.capabilities).toBeDefined();
    }
  });

  it('refuses harnesses this runner lacks with agent.invalid', () => {
    expect(() => createHarnessAdapter('cursor')).toThrow('harness cursor is not available on this runner');
    expect(() => createHarnessAdapter('toString')).toThrow(expect.objectContaining({ code: 'agent.invalid' }));
  });
});
