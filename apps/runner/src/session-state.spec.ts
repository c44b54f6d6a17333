import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionStartSpec } from '@yoke/protocol';
import { type SessionState, SessionStateStore } from './session-state';

describe('SessionStateStore', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'yoke-state-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const fresh = (): SessionState => ({
    spec: { sessionId: 's1' } as SessionStartSpec,
    workspace: '/w',
    applied: [],
    queued: [],
    openTurn: null,
  });
  const onDisk = () => JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as SessionState;
  const leftovers = () => readdirSync(dir).filter((f) => f !== 'state.json');

  it('writes an update before returning', () => {
    const store = new SessionStateStore(dir, fresh());
    store.update((s) => s.applied.push('in-1'));
    expect(onDisk().applied).toEqual(['in-1']);
  });

  it('changes the state at once and has it on disk when the staged write resolves', async () => {
    const store = new SessionStateStore(dir, fresh());
    store.update(() => undefined);
    const written = store.stage((s) => s.applied.push('in-1'));
    expect(store.state.applied).toEqual(['in-1']);
    expect(onDisk().applied).toEqual([]);
    await written;
    expect(onDisk().applied).toEqual(['in-1']);
    expect(SessionStateStore.load(dir)?.state.applied).toEqual(['in-1']);
    expect(leftovers()).toEqual([]);
  });

  it('writes the changes staged in one run of the event loop together', async () => {
    const store = new SessionStateStore(dir, fresh());
    const first = store.stage((s) => s.applied.push('in-1'));
    const second = store.stage((s) => (s.openTurn = { turnId: 't1', actor: { id: 'u', name: 'U' } }));
    expect(second).toBe(first);
    await first;
    expect(onDisk()).toMatchObject({ applied: ['in-1'], openTurn: { turnId: 't1' } });
    await expect(store.durable()).resolves.toBeUndefined();
  });

  it('never lets a staged write replace a newer state an update wrote while it was in flight', async () => {
    const store = new SessionStateStore(dir, fresh());
    const staged = store.stage((s) => s.applied.push('in-1'));
    await new Promise((r) => setImmediate(r)); // the staged write has taken its copy and is writing it
    store.update((s) => s.queued.push({ id: 'in-2' } as SessionState['queued'][number]));
    await staged;
    expect(onDisk().applied).toEqual(['in-1']);
    expect(onDisk().queued.map((q) => q.id)).toEqual(['in-2']);
    expect(leftovers()).toEqual([]);
  });

  it('writes a change staged during a write in the next one, in order', async () => {
    const store = new SessionStateStore(dir, fresh());
    const first = store.stage((s) => s.applied.push('in-1'));
    await new Promise((r) => setImmediate(r));
    const second = store.stage((s) => s.applied.push('in-2'));
    expect(second).not.toBe(first);
    await second;
    expect(onDisk().applied).toEqual(['in-1', 'in-2']);
  });

  it('rejects when the state cannot be written, and writes it once it can', async () => {
    const store = new SessionStateStore(join(dir, 'gone'), fresh());
    await expect(store.stage((s) => s.applied.push('in-1'))).rejects.toThrow(/ENOENT/);
    store.update(() => undefined); // makes the directory, as a session's first write does
    await expect(store.stage((s) => s.applied.push('in-2'))).resolves.toBeUndefined();
    expect(JSON.parse(readFileSync(join(dir, 'gone', 'state.json'), 'utf8')).applied).toEqual(['in-1', 'in-2']);
  });
});
