import type { Item, Session } from '@yoke/protocol';

/** Test data shaped exactly as the protocol schemas parse it. Used only by *.spec.ts. */
export const SESSION_ID = '00000000-0000-4000-8000-000000000001';

export function makeSession(over: Partial<Session> = {}): Session {
  return {
    id: SESSION_ID,
    orgId: '00000000-0000-4000-8000-00000000000a',
    ownerId: '00000000-0000-4000-8000-00000000000b',
    title: 'A session',
    agent: {
      name: 'coder',
      prompt: 'p',
      harness: 'yoke',
      maxSteps: 50,
      tools: { shell: true, files: true, web: false, mcp: {} },
      agents: {},
      policies: [],
      sandbox: { network: { allow: [] }, credentials: [] },
    },
    harness: 'yoke',
    model: 'm1',
    runnerId: null,
    runnerOnline: true,
    runnerName: 'laptop',
    runnerRevoked: false,
    status: 'idle',
    statusReason: null,
    parentId: null,
    forkedFrom: null,
    lastSeq: 0,
    costUsd: 0,
    inputTokens: 0,
    outputTokens: 0,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
}

export function makeNotice(seq: number, sessionId = SESSION_ID): Item {
  return { seq, sessionId, createdAt: '2026-01-01T00:00:00.000Z', type: 'notice', level: 'info', text: `n${seq}` };
}
