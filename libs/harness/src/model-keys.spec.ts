import { MODEL_KEY_VARS, missingModelKey, missingModelKeyError } from './model-keys';

describe('the missing model key error', () => {
  it('is recognised again from its text, also inside a longer message from an agent process', () => {
    for (const name of MODEL_KEY_VARS) {
      const { message } = missingModelKeyError(name);
      expect(message).toBe(`${name} is not set on this runner`);
      expect(missingModelKey(message)).toBe(name);
      expect(missingModelKey(`the yoke agent failed to start: ${message}`)).toBe(name);
    }
  });

  it('recognises nothing else', () => {
    expect(missingModelKey('the turn failed')).toBeNull();
    expect(missingModelKey('MISTRAL_API_KEY is not set on this runner')).toBeNull();
    expect(missingModelKey('MY_OPENAI_API_KEY is not set on this runner')).toBeNull();
  });
});
