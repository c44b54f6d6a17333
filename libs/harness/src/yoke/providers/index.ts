import { AppError, type AgentSpec, type ProviderKind } from '@yoke/protocol';
import type { ProviderEnv } from '../../adapter';
import { missingModelKeyError, type ModelKeyVar } from '../../model-keys';
import type { ModelClient } from '../model';
import { ANTHROPIC_DEFAULT_BASE_URL, AnthropicClient } from './anthropic';
import { OPENAI_DEFAULT_BASE_URL, OpenAiChatClient } from './openai-chat';
import { OpenAiResponsesClient } from './openai-responses';

export { AnthropicClient, ANTHROPIC_DEFAULT_BASE_URL, toAnthropicMessages } from './anthropic';
export { OpenAiChatClient, OPENAI_DEFAULT_BASE_URL, toChatMessages } from './openai-chat';
export { OpenAiResponsesClient, toResponsesInput } from './openai-responses';
export { readSse, type SseEvent } from './sse';

/** The wire API for a model: the agent's explicit `provider`, else guessed from the model name. */
export function selectProvider(model: string, explicit?: ProviderKind): ProviderKind {
  if (explicit) return explicit;
  if (/^claude/i.test(model)) return 'anthropic';
  if (/^(gpt|o\d|codex)/i.test(model)) return 'openai-responses';
  return 'openai-chat';
}

/** The model to use: the session/CLI override, else the agent's `model`. */
export function resolveModel(agent: AgentSpec, override: string | null | undefined): string {
  const model = override ?? agent.model;
  if (!model) {
    throw new AppError('agent.invalid', `agent "${agent.name}" has no model: set "model:" in its YAML or pass one`);
  }
  return model;
}

/** A streaming client for `kind`. A missing API key is an error only against the vendor's own endpoint. */
export function createModelClient(kind: ProviderKind, env: ProviderEnv): ModelClient {
  if (kind === 'anthropic') {
    const base = env.anthropicBaseUrl || ANTHROPIC_DEFAULT_BASE_URL;
    requireKey(base === ANTHROPIC_DEFAULT_BASE_URL, env.anthropicApiKey, 'ANTHROPIC_API_KEY');
    return new AnthropicClient(base, env.anthropicApiKey);
  }
  const base = env.openaiBaseUrl || OPENAI_DEFAULT_BASE_URL;
  requireKey(base === OPENAI_DEFAULT_BASE_URL, env.openaiApiKey, 'OPENAI_API_KEY');
  return kind === 'openai-chat'
    ? new OpenAiChatClient(base, env.openaiApiKey)
    : new OpenAiResponsesClient(base, env.openaiApiKey);
}

function requireKey(isVendorEndpoint: boolean, key: string | undefined, name: ModelKeyVar): void {
  if (isVendorEndpoint && !key) throw missingModelKeyError(name);
}
