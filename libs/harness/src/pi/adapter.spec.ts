import type { ProviderKind } from '@yoke/protocol';
import { piModelsConfig } from './adapter';

describe('piModelsConfig', () => {
  it('points models.json at the runner endpoint for each wire API, with the key in an env var', () => {
    const env = {
      anthropicBaseUrl: 'http://127.0.0.1:1',
      openaiBaseUrl: 'http://127.0.0.1:1/v1',
      openaiApiKey: 'sk-secret-123',
    };
    const of = (kind: ProviderKind) =>
      (piModelsConfig('m', kind, env) as { providers: { yoke: Record<string, unknown> } }).providers.yoke;
    expect(of('anthropic')).toMatchObject({
      baseUrl: 'http://127.0.0.1:1',
      api: 'anthropic-messages',
      apiKey: 'YOKE_PI_API_KEY',
    });
    expect(of('openai-responses')).toMatchObject({ baseUrl: 'http://127.0.0.1:1/v1', api: 'openai-responses' });
    expect(of('openai-chat')).toMatchObject({ api: 'openai-completions', compat: { supportsDeveloperRole: false } });
    expect(JSON.stringify(piModelsConfig('m', 'openai-chat', env))).not.toContain('sk-secret-123');
    expect(() => piModelsConfig('m', 'anthropic', {})).toThrow('ANTHROPIC_API_KEY is not set on this runner');
  });
});
