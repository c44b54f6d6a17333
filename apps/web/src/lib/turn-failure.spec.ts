import type { Item } from '@yoke/protocol';
import { describeTurnFailure, promptOfTurn } from '@/lib/turn-failure';

const sentence = (error: string) => describeTurnFailure(error).sentence;

describe('describeTurnFailure', () => {
  it.each([
    'anthropic API error: cannot reach http://127.0.0.1:41234/v1/messages: connect ECONNREFUSED 127.0.0.1:41234',
    'openai API error: cannot reach https://api.openai.invalid/v1/responses: getaddrinfo ENOTFOUND api.openai.invalid',
    'Request timed out.',
    'API Error: Connection error.',
    'stream disconnected before completion: error sending request: connect ETIMEDOUT',
    'anthropic API error (HTTP 502): upstream error: connect ECONNREFUSED 127.0.0.1:41234',
  ])('a provider out of reach: %s', (error) => {
    expect(sentence(error)).toBe('Yoke could not reach the model provider.');
  });

  it.each([
    'anthropic API error (HTTP 401): invalid x-api-key',
    'openai API error (HTTP 403): Project does not have access',
    'Failed to authenticate. API Error: 401 {"type":"error","error":{"type":"authentication_error"}}',
    'unexpected status 401 Unauthorized: Incorrect API key provided',
  ])('a refused key: %s', (error) => {
    expect(sentence(error)).toBe('The model provider refused the API key.');
  });

  it('rate limits, provider errors (by status or in the stream)', () => {
    expect(describeTurnFailure('anthropic API error (HTTP 429): rate_limit_error: slow down').kind).toBe('rate_limit');
    expect(describeTurnFailure('exceeded retry limit, last status: 429 Too Many Requests').kind).toBe('rate_limit');
    expect(describeTurnFailure('anthropic API error (HTTP 529): Overloaded').kind).toBe('provider');
    expect(describeTurnFailure('openai API error (HTTP 500): oops').kind).toBe('provider');
    expect(sentence('anthropic API error: overloaded_error: stream broke')).toBe(
      'The model provider had an error on its side.',
    );
  });

  it('budget and policy denials have their own sentence, whatever their reason mentions', () => {
    expect(sentence('stopped by policy: budget: session spend $0.06 is over the $0.05 cap')).toBe(
      'A budget limit stopped this turn.',
    );
    expect(sentence('monthly budget team-cap not confirmed (deny)')).toBe('A budget limit stopped this turn.');
    expect(sentence('denied by policy: no-secrets: the prompt mentions a timeout of 401 seconds')).toBe(
      'A policy stopped this turn.',
    );
  });

  it('names a missing key and a lost runner; anything else is a plain failure', () => {
    expect(describeTurnFailure('OPENAI_API_KEY is not set on this runner: run `yoke keys set openai`').kind).toBe(
      'missing_key',
    );
    expect(
      describeTurnFailure('the runner stopped during this turn; it was restarted and the turn was lost').kind,
    ).toBe('runner_restart');
    expect(sentence('the agent exited with code 1')).toBe('The turn failed.');
    expect(sentence('')).toBe('The turn failed.');
  });
});

describe('promptOfTurn', () => {
  const base = { sessionId: 's', createdAt: '2026-12-05T00:00:00.000Z' };
  const items: Item[] = [
    { ...base, seq: 1, turnId: 't1', type: 'turn_started' },
    { ...base, seq: 2, turnId: 't1', type: 'user_message', content: [{ type: 'text', text: 'first' }] },
    { ...base, seq: 3, turnId: 't1', type: 'agent_message', text: 'answer' },
    {
      ...base,
      seq: 4,
      turnId: 't1',
      type: 'user_message',
      content: [
        { type: 'text', text: 'and also' },
        { type: 'file', path: 'a.txt', content: 'x' },
      ],
    },
    { ...base, seq: 5, turnId: 't2', type: 'user_message', content: [{ type: 'text', text: 'another turn' }] },
  ];

  it("is the turn's user messages in order, joined and nothing else", () => {
    expect(promptOfTurn(items, 't1')).toEqual([
      { type: 'text', text: 'first' },
      { type: 'text', text: 'and also' },
      { type: 'file', path: 'a.txt', content: 'x' },
    ]);
  });

  it('is null for a turn without a prompt', () => {
    expect(promptOfTurn(items, 't9')).toBeNull();
  });
});
