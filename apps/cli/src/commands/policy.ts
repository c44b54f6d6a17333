import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Approval, DryRunReport, OrgPolicies, type Verdict } from '@yoke/protocol';
import { ApiClient } from '../api-client';
import { resolveServer, resolveToken } from '../server-discovery';

interface ServerOption {
  server?: string;
  home?: string;
}

/** `yoke policy apply FILE`: replaces the org's policy set (admins); invalid YAML is refused with its positions. */
export async function policyApplyCommand(
  file: string,
  opts: ServerOption & { expectVersion?: string },
): Promise<number> {
  const yaml = readFileSync(resolve(file), 'utf8');
  const api = new ApiClient(resolveServer(opts.server, opts.home), resolveToken());
  const set = await api.request('PUT', '/policies', OrgPolicies, {
    yaml,
    ...(opts.expectVersion !== undefined ? { expectedVersion: Number(opts.expectVersion) } : {}),
  });
  process.stdout.write(
    `applied ${set.count} org ${set.count === 1 ? 'policy' : 'policies'} (version ${set.version})\n`,
  );
  return 0;
}

/** `yoke policy show`: prints the org's current policy YAML. */
export async function policyShowCommand(opts: ServerOption): Promise<number> {
  const api = new ApiClient(resolveServer(opts.server, opts.home), resolveToken());
  const set = await api.request('GET', '/policies', OrgPolicies);
  process.stdout.write(set.yaml || '# no org policies\n');
  return 0;
}

/**
 * `yoke policy test FILE --sessions A,B`: replays recorded sessions through the policy set in FILE and prints what
 * it would have allowed, asked or denied, and where. Exit 0 when it changes nothing, 1 when it would ask or deny.
 */
export async function policyTestCommand(
  file: string,
  opts: ServerOption & { sessions: string; json?: boolean },
): Promise<number> {
  const yaml = readFileSync(resolve(file), 'utf8');
  const sessionIds = opts.sessions
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const api = new ApiClient(resolveServer(opts.server, opts.home), resolveToken());
  const report = await api.request('POST', '/policies/dry-run', DryRunReport, { yaml, sessionIds });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } else {
    for (const s of report.sessions) {
      const c = s.counts;
      process.stdout.write(
        `${s.sessionId} ${s.title}\n  ${s.actions} actions: ${c.allow} allow, ${c.ask} ask, ${c.deny} deny\n`,
      );
      for (const d of s.decisions) {
        const was = d.recorded && d.recorded !== d.verdict ? ` (was ${d.recorded})` : '';
        process.stdout.write(`  #${d.seq} ${label(d.verdict)}${was} ${d.summary}\n`);
        for (const r of d.reasons) process.stdout.write(`      ${r}\n`);
      }
    }
  }
  return report.sessions.some((s) => s.decisions.some((d) => d.verdict !== 'allow')) ? 1 : 0;
}

/** `yoke approve SESSION APPROVAL [--deny]`: answers an approval; a second answer is told who decided first. */
export async function approveCommand(
  sessionId: string,
  approvalId: string,
  opts: ServerOption & { deny?: boolean },
): Promise<number> {
  const api = new ApiClient(resolveServer(opts.server, opts.home), resolveToken());
  const decision = opts.deny ? 'deny' : 'approve';
  const a = await api.request('POST', `/sessions/${sessionId}/approvals/${approvalId}`, Approval, {
    decision,
  });
  process.stdout.write(`${approvalId}: ${a.status}\n`);
  return 0;
}

function label(v: Verdict): string {
  return v === 'deny' ? 'DENY ' : v === 'ask' ? 'ASK  ' : 'ALLOW';
}
