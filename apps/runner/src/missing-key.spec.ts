import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import {
  directLauncher,
  type HarnessAdapter,
  missingModelKeyError,
  type ModelKeyVar,
  type ProviderEnv,
} from '@yoke/harness';
import { AgentSpec, type InboxEntry, type SessionStartSpec } from '@yoke/protocol';
import type { SessionSandboxFactory } from './sandbox';
import { SessionSupervisor, type SupervisorDeps, type TurnResult } from './session-supervisor';

/** A harness that, like the vendor ones, refuses to start without its key, and answers every turn once started. */
const keyedHarness: HarnessAdapter = {
  name: 'keyed',
  start: async (options) => {
    if (!options.provider.openaiApiKey) throw missingModelKeyError('OPENAI_API_KEY');
    return {
      runTurn: async (input) => {
        options.onEvent({ kind: 'item', item: { type: 'agent_message', text: `answered ${input.turnId}` } });
        return { stopReason: 'end_turn' };
      },
      cancel: () => undefined,
      close: async () => undefined,
    };
  },
};

describe('a turn that fails for a missing model key', () => {
  const actor = { id: 'u1', name: 'Ada' };
  let key: string | undefined;
  let sandboxes: number;
  let results: TurnResult[];
  let sup: SessionSupervisor;

  /** The runner's provider, read at each use (as the CLI's keys file is). */
  const provider: ProviderEnv = {
    get openaiApiKey() {
      return key;
    },
  };
  /** Like Omnibox, each sandbox hands the harness a copy of the keys made when it is built. */
  const sandbox: SessionSandboxFactory = async () => {
    sandboxes++;
    return {
      launch: directLauncher,
      provider: { ...provider },
      mode: 'none',
      allow: [],
      metered: false,
      close: async () => undefined,
    };
  };

  const start = (missingKeyFix?: (name: ModelKeyVar) => string): void => {
    const dir = mkdtempSync(join(tmpdir(), 'yoke-missing-key-'));
    const spec: SessionStartSpec = {
      sessionId: randomUUID(),
      agent: AgentSpec.parse({ name: 'a', prompt: 'p', model: 'gpt-x' }),
      harness: 'yoke', // adapterFor answers the keyed harness whatever the name
      model: null,
      workspace: null,
      policies: [],
    };
    const deps: SupervisorDeps = {
      dir: join(dir, 'session'),
      adapterFor: () => keyedHarness,
      provider,
      sandbox,
      permission: async () => ({ behavior: 'allow' }),
      onItems: () => undefined,
      onDelta: () => undefined,
      log: pino({ level: 'silent' }),
      onTurnEnd: (_id, result) => results.push(result),
      missingKeyFix,
    };
    sup = SessionSupervisor.create(spec, join(dir, 'ws'), deps);
  };
  const send = async (text: string): Promise<TurnResult> => {
    const count = results.length;
    const entry: InboxEntry = {
      id: randomUUID(),
      sessionId: sup.sessionId,
      input: { kind: 'message', content: [{ type: 'text', text }], actor },
      createdAt: new Date().toISOString(),
    };
    sup.apply(entry);
    for (let i = 0; i < 200 && results.length === count; i++) await new Promise((r) => setTimeout(r, 5));
    return results[count];
  };

  beforeEach(() => {
    key = undefined;
    sandboxes = 0;
    results = [];
  });
  afterEach(() => sup.close());

  it('says the exact command that fixes it where the runner runs', async () => {
    start((name) => `run \`yoke keys set ${name === 'OPENAI_API_KEY' ? 'openai' : 'anthropic'}\``);
    expect(await send('hi')).toEqual({
      ok: false,
      error: 'OPENAI_API_KEY is not set on this runner: run `yoke keys set openai`',
    });
    const failed = sup.outbox.pending().find((i) => i.type === 'turn_failed');
    expect(failed).toMatchObject({ error: 'OPENAI_API_KEY is not set on this runner: run `yoke keys set openai`' });
  });

  it("says to set the variable in the runner's environment when the runner knows no better fix", async () => {
    start();
    expect(await send('hi')).toEqual({
      ok: false,
      error: 'OPENAI_API_KEY is not set on this runner: set OPENAI_API_KEY in the environment this runner starts in',
    });
  });

  it('works on the next message of the same session once the key is there, with no restart', async () => {
    start(() => 'store it');
    expect((await send('first')).ok).toBe(false);
    key = 'sk-stored-meanwhile';
    expect(await send('second')).toMatchObject({ ok: true, text: expect.stringContaining('answered') });
    // The failed start left no sandbox behind: the second turn built one with the key.
    expect(sandboxes).toBe(2);
  });
});
