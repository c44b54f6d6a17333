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
import { Transactions } from '../../core/prisma/transactions';
import { AuditTrail } from '../audit/audit-trail.service';
import { PolicySetsRepository } from './policy-sets.repository';

export const ORG_POLICY_FILE = 'org-policies.yaml';
export const SESSION_POLICY_FILE = 'session-policies.yaml';

const ADMIN_ROLES = new Set(['owner', 'admin']);
/** Writes without `expectedVersion` are last-writer-wins: a write that lost a race is tried again this often. */
const WRITE_ATTEMPTS = 3;

/**
 * The org's policy set (authored by admins, versioned) and the entries a new session starts with. Invalid YAML never
 * lands: it is refused with every problem positioned by file, path and line.
 */
@Injectable()
export class PolicySetsService {
  constructor(
    private readonly repo: PolicySetsRepository,
    private readonly tx: Transactions,
    private readonly audit: AuditTrail,
  ) {}

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
    const after = parseValid(body.yaml, ORG_POLICY_FILE);
    for (let attempt = 1; ; attempt++) {
      if (await this.write(p, body.yaml, after, body.expectedVersion)) return this.get(p);
      if (body.expectedVersion !== undefined || attempt >= WRITE_ATTEMPTS) {
        throw new AppError('policy.conflict', 'the org policies changed since you loaded them; reload and apply again');
      }
    }
  }

  /**
   * Writes the set over the version it read, with `policy_set.changed` in the same transaction: the old and new YAML
   * as content (the diff), counts of what was added, removed and changed as details. False when another write
   * came first.
   */
  private write(p: Principal, yaml: string, after: PolicySpec[], expectedVersion: number | undefined) {
    return this.tx.run(async () => {
      const before = await this.repo.find(p.orgId);
      const fromVersion = before?.version ?? 0;
      const row = await this.repo.write(p.orgId, yaml, { id: p.userId, name: p.name }, expectedVersion ?? fromVersion);
      if (!row) return false;
      const diff = policyDiff(parseOrNull(before?.yaml ?? ''), after);
      await this.audit.record({
        orgId: p.orgId,
        action: 'policy_set.changed',
        target: { kind: 'policy_set', id: p.orgId, name: ORG_POLICY_FILE },
        details: { fromVersion, toVersion: row.version, policies: after.length, ...diff },
        content: { file: ORG_POLICY_FILE, before: before?.yaml ?? '', after: yaml },
      });
      return true;
    });
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

/**
 * What a new policy set adds, removes and changes against the old one: policies are matched by name (unnamed ones by
 * type and position among the unnamed of that type). `unreadable` when the old set no longer parses.
 */
export function policyDiff(
  before: PolicySpec[] | null,
  after: PolicySpec[],
): { added: number; removed: number; changed: number; unreadable: boolean } {
  if (!before) return { added: after.length, removed: 0, changed: 0, unreadable: true };
  const old = keyed(before);
  const now = keyed(after);
  let added = 0;
  let changed = 0;
  for (const [key, spec] of now) {
    const was = old.get(key);
    if (was === undefined) added++;
    else if (was !== spec) changed++;
  }
  const removed = [...old.keys()].filter((k) => !now.has(k)).length;
  return { added, removed, changed, unreadable: false };
}

function keyed(specs: PolicySpec[]): Map<string, string> {
  const unnamed = new Map<string, number>();
  const out = new Map<string, string>();
  for (const spec of specs) {
    let key = spec.name ? `name:${spec.name}` : '';
    if (!key) {
      const n = unnamed.get(spec.type) ?? 0;
      unnamed.set(spec.type, n + 1);
      key = `${spec.type}#${n}`;
    }
    out.set(key, JSON.stringify(spec));
  }
  return out;
}

function parseOrNull(yaml: string): PolicySpec[] | null {
  try {
    return parseValid(yaml, ORG_POLICY_FILE);
  } catch {
    return null;
  }
}

function invalid(issues: PolicyIssue[]): AppError {
  const first = issues[0];
  const where = first ? `${first.file}:${first.line}:${first.col} ${first.path}: ${first.message}` : 'invalid';
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return new AppError('policy.invalid', `${where}${more}`, { issues });
}
