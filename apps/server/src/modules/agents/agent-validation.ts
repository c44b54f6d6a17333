import { compilePolicies, loadErrors, policyEntries } from '@yoke/policy';
import { type AgentIssue, type AgentSpec, type AgentSummary, type AgentValidation, AppError } from '@yoke/protocol';
import { parseAgentYaml } from '@yoke/spec';
import { nulPaths } from '../../core/validation';

/**
 * Agent YAML as every way in checks it (a session's agent, a save to the library, the editor's check): the schema
 * with located issues, no NUL in any text, then the agent's own policies, which must load (at run time a broken one
 * would deny everything). Throws `agent.invalid` with `details.issues`.
 */
export function parseAgent(yaml: string, file: string): AgentSpec {
  const agent = parseAgentYaml(yaml, file);
  // A `\0` escape in YAML is a NUL after parsing, which Postgres cannot store.
  const nuls = nulPaths(agent);
  if (nuls.length > 0) {
    const issues = nuls.map((path) => ({ file, line: 1, column: 1, path, message: 'contains a NUL character' }));
    throw new AppError('agent.invalid', issues.map((i) => `${file}: ${i.path}: ${i.message}`).join('\n'), { issues });
  }
  const errors = loadErrors(compilePolicies(policyEntries('agent', agent.policies, 'policies')));
  if (errors.length === 0) return agent;
  throw new AppError('agent.invalid', errors.map((e) => `${file}: ${e.origin}: ${e.message}`).join('\n'), {
    issues: errors.map((e) => ({ file, path: e.origin, message: e.message })),
  });
}

/** The same checks, answered instead of thrown: for an editor that shows problems before anything is saved. */
export function validateAgent(yaml: string, file: string): AgentValidation {
  try {
    return { ok: true, agent: summarize(parseAgent(yaml, file)) };
  } catch (err) {
    if (!(err instanceof AppError) || err.code !== 'agent.invalid') throw err;
    return { ok: false, message: err.message, issues: issuesOf(err.details) };
  }
}

export function summarize(agent: AgentSpec): AgentSummary {
  return {
    name: agent.name,
    description: agent.description ?? null,
    harness: agent.harness,
    model: agent.model ?? null,
  };
}

/** Located issues of an `agent.invalid` error; a policy issue (no position of its own) is placed at line 1. */
function issuesOf(details: unknown): AgentIssue[] {
  const raw = (details as { issues?: Partial<AgentIssue>[] } | undefined)?.issues ?? [];
  return raw.map((i) => ({
    file: i.file ?? '',
    line: i.line ?? 1,
    column: i.column ?? 1,
    path: i.path ?? '',
    message: i.message ?? '',
  }));
}
