import { codexConfig } from './adapter';

describe('codexConfig', () => {
  it('writes a provider config that reaches only the given base URL', () => {
    const config = codexConfig({
      model: 'gpt-5.5',
      baseUrl: 'http://127.0.0.1:1/v1',
      webSearch: false,
      requestMaxRetries: 1,
      streamMaxRetries: 1,
    });
    expect(config).toContain('base_url = "http://127.0.0.1:1/v1"');
    expect(config).toContain('wire_api = "responses"');
    expect(config).toMatch(/\[analytics\]\nenabled = false/);
    expect(config).toMatch(/\[features\]\nplugins = false/);
    expect(config).toContain('web_search = "disabled"');
  });
});
