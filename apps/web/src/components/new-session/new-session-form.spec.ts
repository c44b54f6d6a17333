import type { LibraryAgent } from '@yoke/protocol';
import { CreateSessionBody } from '@yoke/protocol';
import {
  choiceValue,
  defaultChoice,
  defaultRunner,
  type NewSessionForm,
  parseChoice,
  sessionBody,
} from './new-session-form';

const SAVED: LibraryAgent = {
  id: '2b0c8f4e-3a51-4f5e-9a55-0f2a7a3c9d11',
  version: 3,
  name: 'reviewer',
  description: null,
  harness: 'claude-code',
  model: null,
  yaml: 'name: reviewer\nprompt: Review.\nharness: claude-code\n',
  createdBy: null,
  updatedBy: null,
  createdAt: '2026-12-01T00:00:00.000Z',
  updatedAt: '2026-12-01T00:00:00.000Z',
};

const form = (over: Partial<NewSessionForm>): NewSessionForm => ({
  choice: { kind: 'paste' },
  saved: null,
  yaml: 'name: a\nprompt: b\n',
  harness: '',
  model: '',
  runnerId: '7d7f3a55-1b1e-4c4f-8f4e-6c2a1b3c4d5e',
  workspace: '',
  prompt: 'go',
  idempotencyKey: 'k1',
  ...over,
});

describe('new session form', () => {
  it('round-trips the agent choice through the select value', () => {
    for (const c of [
      { kind: 'saved', id: SAVED.id },
      { kind: 'example', file: 'helper.yaml' },
      { kind: 'paste' },
    ] as const)
      expect(parseChoice(choiceValue(c))).toEqual(c);
  });

  it('opens on the first saved agent, else the first example, and on the first runner online', () => {
    expect(defaultChoice([SAVED], [])).toEqual({ kind: 'saved', id: SAVED.id });
    expect(
      defaultChoice(
        [],
        [{ file: 'helper.yaml', name: 'helper', description: null, harness: 'yoke', model: null, yaml: '' }],
      ),
    ).toEqual({
      kind: 'example',
      file: 'helper.yaml',
    });
    expect(defaultChoice([], [])).toEqual({ kind: 'paste' });
    const runner = (id: string, online: boolean) => ({
      id,
      name: id,
      online,
      lastSeenAt: null,
      createdAt: SAVED.createdAt,
    });
    expect(defaultRunner([runner('a', false), runner('b', true)])).toBe('b');
    expect(defaultRunner([runner('a', false)])).toBe('');
  });

  it('starts an unedited saved agent by id at the version shown, and anything else from its YAML', () => {
    const pinned = sessionBody(form({ choice: { kind: 'saved', id: SAVED.id }, saved: SAVED, yaml: SAVED.yaml }));
    expect(pinned).toEqual({
      agentId: SAVED.id,
      agentVersion: 3,
      runnerId: '7d7f3a55-1b1e-4c4f-8f4e-6c2a1b3c4d5e',
      prompt: 'go',
      idempotencyKey: 'k1',
    });
    const edited = sessionBody(
      form({ choice: { kind: 'saved', id: SAVED.id }, saved: SAVED, yaml: `${SAVED.yaml}model: gpt-5\n` }),
    );
    expect(edited).toMatchObject({ agentYaml: `${SAVED.yaml}model: gpt-5\n`, agentFile: 'agent.yaml' });
    expect(edited).not.toHaveProperty('agentId');
    const example = sessionBody(
      form({ choice: { kind: 'example', file: 'helper.yaml' }, harness: 'codex', model: ' gpt-5 ', workspace: ' /w ' }),
    );
    expect(example).toMatchObject({ agentFile: 'helper.yaml', harness: 'codex', model: 'gpt-5', workspace: '/w' });
    // Every body the form makes is one the server accepts.
    for (const b of [pinned, edited, example]) expect(CreateSessionBody.safeParse(b).success).toBe(true);
  });
});
