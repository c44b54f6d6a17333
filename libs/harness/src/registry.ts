import { AppError } from '@yoke/protocol';
import { AcpAdapter } from './acp/adapter';
import type { HarnessAdapter } from './adapter';
import { ClaudeCodeAdapter } from './claude-code/adapter';
import { ClaudeSdkAdapter } from './claude-sdk/adapter';
import { CodexAdapter } from './codex/adapter';
import { OpenAIAgentsAdapter } from './openai-agents/adapter';
import { PiAdapter } from './pi/adapter';
import { YokeHarnessAdapter } from './yoke/adapter';

/** Every harness this runner can start by name, besides `acp:<command>` (any ACP agent). */
const HARNESSES: Record<string, () => HarnessAdapter> = {
  yoke: () => new YokeHarnessAdapter(),
  'claude-code': () => new ClaudeCodeAdapter(),
  'claude-sdk': () => new ClaudeSdkAdapter(),
  codex: () => new CodexAdapter(),
  pi: () => new PiAdapter(),
  'openai-agents': () => new OpenAIAgentsAdapter(),
};

/** The names `createHarnessAdapter` accepts, in a stable order (`acp:<command>` not included). */
export function registeredHarnesses(): string[] {
  return Object.keys(HARNESSES);
}

/** The adapter for a harness name (`agent.harness`). */
export function createHarnessAdapter(name: string): HarnessAdapter {
  if (name.startsWith('acp:')) return new AcpAdapter(name);
  const factory = Object.hasOwn(HARNESSES, name) ? HARNESSES[name] : undefined;
  if (factory) return factory();
  throw new AppError('agent.invalid', `harness ${name} is not available on this runner`);
}
