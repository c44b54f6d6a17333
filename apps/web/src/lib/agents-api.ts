import {
  AgentValidation,
  type CreateSessionBody,
  ExampleAgentList,
  type ExampleAgent,
  LibraryAgent,
  LibraryAgentList,
  Session,
} from '@yoke/protocol';
import { request } from '@/lib/api';
import { parseWire } from '@/lib/wire';

/** The org's agent library (docs/agents.md): saved agents, the shipped examples, checks and saves. */

export async function listLibraryAgents(): Promise<LibraryAgent[]> {
  return parseWire(LibraryAgentList, 'saved agents', await request('/agents')).agents;
}

export async function listExampleAgents(): Promise<ExampleAgent[]> {
  return parseWire(ExampleAgentList, 'example agents', await request('/agents/examples')).examples;
}

/** The server's checks of agent YAML (the ones a session or a save makes), without storing anything. */
export async function validateAgentYaml(yaml: string, signal?: AbortSignal): Promise<AgentValidation> {
  const body = await request('/agents/validate', { method: 'POST', body: { yaml }, signal });
  return parseWire(AgentValidation, 'an agent check', body);
}

export async function saveAgent(yaml: string): Promise<LibraryAgent> {
  return parseWire(LibraryAgent, 'a saved agent', await request('/agents', { method: 'POST', body: { yaml } }));
}

/** A new version of a saved agent; refused when someone saved another since `expectedVersion`. */
export async function saveAgentVersion(id: string, yaml: string, expectedVersion: number): Promise<LibraryAgent> {
  const body = await request(`/agents/${encodeURIComponent(id)}`, {
    method: 'PUT',
    body: { yaml, expectedVersion },
  });
  return parseWire(LibraryAgent, 'a saved agent', body);
}

/** Starts a session; `idempotencyKey` makes a repeated submit (a double click, a retry) return the same session. */
export async function startSession(body: CreateSessionBody): Promise<Session> {
  return parseWire(Session, 'a session', await request('/sessions', { method: 'POST', body }));
}
