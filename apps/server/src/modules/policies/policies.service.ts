import { Injectable } from '@nestjs/common';
import { compilePolicies, policyEntries, policyStack } from '@yoke/policy';
import { AppError, type DryRunBody, type DryRunReport, type Item } from '@yoke/protocol';
import type { Principal } from '../../core/auth/principal';
import { SessionQueriesService } from '../sessions/session-queries.service';
import { replaySession } from './dry-run';
import { ORG_POLICY_FILE, parseValid, PolicySetsService } from './policy-sets.service';

const PAGE = 1000;
const MAX_REPLAY_ITEMS = 200_000;

@Injectable()
export class PoliciesService {
  constructor(
    private readonly sets: PolicySetsService,
    private readonly sessions: SessionQueriesService,
  ) {}

  /**
   * What a policy set (the given YAML, or the org's current one) would have allowed, asked or denied in recorded
   * sessions. The set stands in for the org level; each session's agent and session levels stay as recorded.
   */
  async dryRun(p: Principal, body: DryRunBody): Promise<DryRunReport> {
    const yaml = body.yaml ?? (await this.sets.get(p)).yaml;
    const orgEntries = policyEntries('org', parseValid(yaml, ORG_POLICY_FILE));
    const report: DryRunReport = { policies: orgEntries.length, sessions: [] };
    for (const id of new Set(body.sessionIds)) {
      const session = await this.sessions.get(p, id);
      const detail = await this.sessions.startedWith(p, id);
      const entries = policyStack({
        agent: { name: session.agent.name, policies: detail.agentPolicies },
        policies: [...orgEntries, ...detail.policies.filter((e) => e.level === 'session')],
      });
      const items = await this.allItems(p, id);
      report.sessions.push(
        replaySession(
          compilePolicies(entries),
          { sessionId: id, title: session.title, workspace: detail.workspace, ownerId: session.ownerId },
          items,
        ),
      );
    }
    return report;
  }

  private async allItems(p: Principal, id: string): Promise<Item[]> {
    const out: Item[] = [];
    let after = 0;
    for (;;) {
      const page = await this.sessions.items(p, id, after, PAGE);
      out.push(...page.items);
      if (out.length > MAX_REPLAY_ITEMS) {
        throw new AppError('request.too_large', `session ${id} has more than ${MAX_REPLAY_ITEMS} items to replay`);
      }
      if (!page.hasMore || page.items.length === 0) return out;
      after = page.items[page.items.length - 1].seq;
    }
  }
}
