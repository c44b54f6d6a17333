import type { PolicyEntry, PolicyLevel } from './types';

/**
 * How a policy is labelled wherever it is named (load-failure notices, the reason a failed policy gives, validation
 * errors): where it came from and its 1-based place there — `org#2`, `agent reviewer#1`, `session#1`, `policies#3`.
 */
export function policyOrigin(source: string, index: number): string {
  return `${source}#${index + 1}`;
}

/** The source an agent's own policies are labelled with: `agent <name>`. */
export function agentSource(agentName: string): string {
  return `agent ${agentName}`;
}

/** One level's entries from a list of specs, in order, labelled `<source>#<n>` (the source defaults to the level). */
export function policyEntries<S>(
  level: PolicyLevel,
  specs: readonly S[],
  source: string = level,
): { level: PolicyLevel; spec: S; origin: string }[] {
  return specs.map((spec, i) => ({ level, spec, origin: policyOrigin(source, i) }));
}

/** What a session's policy stack is built from: the shape of a session start spec. */
export interface PolicyStackSource {
  /** Org and session entries as the server labelled them; entries of the agent level here are not the agent's. */
  policies: readonly PolicyEntry[];
  /** The agent's own policies travel with the agent. */
  agent: { name: string; policies: readonly unknown[] };
}

/** The policies in force for a session, in the gate's order: the org's, the agent's own, the session's. */
export function policyStack(spec: PolicyStackSource): PolicyEntry[] {
  return [
    ...spec.policies.filter((e) => e.level === 'org'),
    ...policyEntries('agent', spec.agent.policies, agentSource(spec.agent.name)),
    ...spec.policies.filter((e) => e.level === 'session'),
  ];
}
