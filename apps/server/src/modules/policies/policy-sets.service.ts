import { Injectable } from '@nestjs/common';
import { compilePolicies, loadErrors, parsePolicyYaml, policyEntries, type PolicySpec } from '@yoke/policy';
import {
  AppError,
  type OrgPolicies,
  type PolicyEntryWire,
  type PolicyIssue,
  type PutPoliciesBody,
} from '@yoke/protocol';
import type { Principal } from '../../core/auth/principal';
import { PolicySetsRepository } from './policy-sets.repository';

export const ORG_POLICY_FILE = 'org-policies.yaml';
export const SESSION_POLICY_FILE = 'session-policies.yaml';

const ADMIN_ROLES = new Set(['owner', 'admin']);

/**
 * The org's policy set (authored by admins, versioned) and the entries a new session starts with. Invalid YAML never
 * lands: it is refused with every problem positioned by file, path and line.
 */
@Injectable()
export class PolicySetsService {
  constructor(private readonly repo: PolicySetsRepository) {}

  async get(p: Principal): Promise<OrgPolicies> {
    const row = await this.repo.find(p.orgId);
    if (!row) return { yaml: '', version: 0, count: 0, updatedAt: null, updatedBy: null };
    return {
      yaml: row.yaml,
      version: row.version,
      count: parseValid(row.yaml, ORG_POLICY_FILE).length,
      updatedAt: row.updatedAt.toISOString(),
      updatedBy: (row.updatedBy as OrgPolicies['updatedBy']) ?? null,
    };
  }

  async put(p: Principal, body: PutPoliciesBody): Promise<OrgPolicies> {
    if (!ADMIN_ROLES.has(p.role))
      throw new AppError('auth.forbidden', 'only org owners and admins change org policies');
    parseValid(body.yaml, ORG_POLICY_FILE);
    const row = await this.repo.write(p.orgId, body.yaml, { id: p.userId, name: p.name }, body.expectedVersion);
    if (!row) {
      throw new AppError('policy.conflict', 'the org policies changed since you loaded them; reload and apply again');
    }
    return this.get(p);
  }

  /** Problems of a policy file, without storing anything (for editors). */
  validate(yaml: string, file = ORG_POLICY_FILE): PolicyIssue[] {
    try {
      parseValid(yaml, file);
      return [];
    } catch (err) {
      if (err instanceof AppError && err.code === 'policy.invalid') {
        return (err.details as { issues: PolicyIssue[] }).issues;
      }
      throw err;
    }
  }

  /** The org's entries plus the session's own, as a new session starts with them. */
  async entriesFor(orgId: string, sessionYaml: string | undefined): Promise<PolicyEntryWire[]> {
    const row = await this.repo.find(orgId);
    return [
      ...(row ? policyEntries('org', parseValid(row.yaml, ORG_POLICY_FILE)) : []),
      ...(sessionYaml ? policyEntries('session', parseValid(sessionYaml, SESSION_POLICY_FILE)) : []),
    ];
  }
}

/** Parses and compiles a policy file; any problem (YAML, schema, an expression that does not compile) refuses it. */
export function parseValid(yaml: string, file: string): PolicySpec[] {
  if (yaml.trim() === '') return [];
  const parsed = parsePolicyYaml(yaml, file);
  if (!parsed.ok) throw invalid(parsed.errors);
  const errors = loadErrors(compilePolicies(policyEntries('org', parsed.policies, 'policies')));
  if (errors.length > 0) {
    throw invalid(errors.map((e) => ({ file, path: e.origin, line: 0, col: 0, message: e.message })));
  }
  return parsed.policies;
}

function invalid(issues: PolicyIssue[]): AppError {
  const first = issues[0];
  const where = first ? `${first.file}:${first.line}:${first.col} ${first.path}: ${first.message}` : 'invalid';
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return new AppError('policy.invalid', `${where}${more}`, { issues });
}
