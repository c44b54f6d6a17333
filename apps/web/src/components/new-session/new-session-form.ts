import type { CreateSessionBody, ExampleAgent, HarnessName, LibraryAgent, RunnerView } from '@yoke/protocol';

/** The window event that opens the New session dialog, from anywhere (a button, the command palette). */
export const NEW_SESSION_EVENT = 'yoke:new-session';

export function openNewSession(): void {
  window.dispatchEvent(new CustomEvent(NEW_SESSION_EVENT));
}

export const HARNESSES: HarnessName[] = ['yoke', 'claude-code', 'codex', 'pi', 'claude-sdk', 'openai-agents'];

/** Where the agent comes from: a saved agent of the org's library, an example shipped with Yoke, or pasted YAML. */
export type AgentChoice = { kind: 'saved'; id: string } | { kind: 'example'; file: string } | { kind: 'paste' };

export function choiceValue(c: AgentChoice): string {
  if (c.kind === 'saved') return `saved:${c.id}`;
  if (c.kind === 'example') return `example:${c.file}`;
  return 'paste';
}

export function parseChoice(value: string): AgentChoice {
  if (value.startsWith('saved:')) return { kind: 'saved', id: value.slice('saved:'.length) };
  if (value.startsWith('example:')) return { kind: 'example', file: value.slice('example:'.length) };
  return { kind: 'paste' };
}

/** What the dialog opens on: the first saved agent, else the first example, else an empty paste box. */
export function defaultChoice(saved: LibraryAgent[], examples: ExampleAgent[]): AgentChoice {
  if (saved[0]) return { kind: 'saved', id: saved[0].id };
  if (examples[0]) return { kind: 'example', file: examples[0].file };
  return { kind: 'paste' };
}

/** The runner a new session goes to by default: the first one online. */
export function defaultRunner(runners: RunnerView[]): string {
  return runners.find((r) => r.online)?.id ?? '';
}

export type NewSessionForm = {
  choice: AgentChoice;
  /** The saved agent chosen, when the choice is one. */
  saved: LibraryAgent | null;
  /** The YAML in the editor (a saved agent's own, unless edited). */
  yaml: string;
  harness: HarnessName | '';
  model: string;
  runnerId: string;
  workspace: string;
  prompt: string;
  idempotencyKey: string;
};

/** Whether the editor's text is a saved agent exactly as saved (the session then starts from the library). */
export function isPristineSaved(f: Pick<NewSessionForm, 'saved' | 'yaml'>): boolean {
  return f.saved !== null && f.saved.yaml === f.yaml;
}

/**
 * The session to create. A saved agent, unedited, starts by id at the version shown (a save by someone else meanwhile
 * does not change what was picked); anything else starts from the editor's YAML. Empty fields are left to the agent
 * and the server.
 */
export function sessionBody(f: NewSessionForm): CreateSessionBody {
  const agent =
    f.saved && isPristineSaved(f)
      ? { agentId: f.saved.id, agentVersion: f.saved.version }
      : { agentYaml: f.yaml, agentFile: f.choice.kind === 'example' ? f.choice.file : 'agent.yaml' };
  const model = f.model.trim();
  const workspace = f.workspace.trim();
  return {
    ...agent,
    ...(f.harness ? { harness: f.harness } : {}),
    ...(model ? { model } : {}),
    ...(f.runnerId ? { runnerId: f.runnerId } : {}),
    ...(workspace ? { workspace } : {}),
    prompt: f.prompt,
    idempotencyKey: f.idempotencyKey,
  };
}
