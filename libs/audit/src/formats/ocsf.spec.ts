import fc from 'fast-check';
import { AuditEvent } from '@yoke/protocol';
import {
  ACTOR_KINDS,
  AUDIT_CATALOGUE,
  OUTCOMES,
  auditEventArb,
  sampleEvent,
} from '../../../../test/fixtures/ocsf/audit-events';
import { ocsfValidators } from '../../../../test/fixtures/ocsf/validators';
import { OCSF_VERSION, toOcsf } from './ocsf';

const validators = ocsfValidators();

/** Validates a record against the schema of its class; returns ajv's errors, none when valid. */
function schemaErrors(record: Record<string, unknown>): string[] {
  const validate = validators.get(record.class_uid as number);
  if (!validate) return [`no schema for class ${String(record.class_uid)}`];
  if (validate(record)) return [];
  return (validate.errors ?? []).map((err) => `${err.instancePath} ${err.message ?? ''} ${JSON.stringify(err.params)}`);
}

/** The OCSF class each catalogue action lands in. */
const CLASS_OF: Record<(typeof AUDIT_CATALOGUE)[number], 3002 | 4001 | 6003> = {
  'auth.sign_in': 3002,
  'auth.sign_in_failed': 3002,
  'auth.sign_out': 3002,
  'auth.device_login': 3002,
  'runner.connected': 3002,
  'runner.disconnected': 3002,
  'egress.allowed': 4001,
  'egress.denied': 4001,
  'egress.credential_injected': 4001,
  'api_token.created': 6003,
  'api_token.revoked': 6003,
  'member.invited': 6003,
  'member.role_changed': 6003,
  'member.removed': 6003,
  'invitation.accepted': 6003,
  'org.created': 6003,
  'sso.updated': 6003,
  'runner.enrolment_created': 6003,
  'runner.enrolled': 6003,
  'runner.rotated': 6003,
  'runner.revoked': 6003,
  'session.created': 6003,
  'session.forked': 6003,
  'session.cancelled': 6003,
  'session.archived': 6003,
  'session.restored': 6003,
  'session.prompt': 6003,
  'share.created': 6003,
  'share.redeemed': 6003,
  'share.revoked': 6003,
  'share.granted': 6003,
  'guest.joined': 6003,
  'comment.created': 6003,
  'policy_set.changed': 6003,
  'policy.decision': 6003,
  'approval.requested': 6003,
  'approval.decided': 6003,
  'tool.call': 6003,
  'spend.threshold_crossed': 6003,
  'audit.read': 6003,
  'audit.exported': 6003,
  'audit.downloaded': 6003,
  'audit.checkpoint_key_rotated': 6003,
  'usage.mismatch': 6003,
  'usage.report_read': 6003,
  'audit_sink.created': 6003,
  'audit_sink.updated': 6003,
  'audit_sink.deleted': 6003,
  'audit_sink.tested': 6003,
  'retention.updated': 6003,
  'retention.previewed': 6003,
  'retention.run': 6003,
  'retention.erased': 6003,
  'legal_hold.placed': 6003,
  'legal_hold.released': 6003,
  'legal_hold.read': 6003,
  'budget.created': 6003,
  'budget.updated': 6003,
  'budget.deleted': 6003,
  'budget.threshold_crossed': 6003,
  'budget.cap_reached': 6003,
  'agent.created': 6003,
  'agent.updated': 6003,
  'agent.deleted': 6003,
};

/** Keys `unmapped` may hold: Yoke fields without an OCSF home, never content. */
const UNMAPPED_KEYS = ['actor', 'target', 'ip', 'userAgent', 'sessionId', 'turnId', 'contentHash', 'details'];

describe('OCSF view of audit events', () => {
  it('pins the OCSF version the fixtures describe', () => {
    expect(OCSF_VERSION).toBe('1.3.0');
  });

  it.each(AUDIT_CATALOGUE)('maps %s to its class, for every outcome, valid against the schema', (action) => {
    for (const outcome of OUTCOMES) {
      const record = toOcsf(AuditEvent.parse(sampleEvent({ action, outcome })));
      expect(schemaErrors(record)).toEqual([]);
      expect(record.class_uid).toBe(CLASS_OF[action]);
      expect(record.type_uid).toBe((record.class_uid as number) * 100 + (record.activity_id as number));
    }
  });

  it.each(ACTOR_KINDS)('renders an actor of kind %s, whom it acts for kept under unmapped', (kind) => {
    const actor = { kind, id: `${kind}-1`, name: `${kind} one`, onBehalfOf: 'u-9' };
    for (const action of ['auth.sign_in', 'session.created', 'egress.denied']) {
      const record = toOcsf(sampleEvent({ action, actor }));
      expect(schemaErrors(record)).toEqual([]);
      const unmapped = record.unmapped as { actor: { kind: string; onBehalfOf?: string } };
      expect(unmapped.actor).toMatchObject({ kind, onBehalfOf: 'u-9' });
    }
    const user = (toOcsf(sampleEvent({ actor })).actor as { user: Record<string, unknown> }).user;
    expect(user).toMatchObject({ uid: `${kind}-1`, name: `${kind} one` });
    expect(user.type_id).toBe(kind === 'user' ? 1 : kind === 'system' ? 3 : 99);
  });

  it('sets the base attributes every record has', () => {
    const e = sampleEvent({ action: 'api_token.created' });
    const record = toOcsf(e);
    expect(record).toMatchObject({
      class_uid: 6003,
      category_uid: 6,
      activity_id: 1,
      activity_name: 'Create',
      type_uid: 600301,
      type_name: 'API Activity: Create',
      time: Date.parse(e.at),
      severity_id: 1,
      status_id: 1,
      status: 'Success',
      metadata: {
        version: '1.3.0',
        product: { name: 'Yoke', vendor_name: 'Yoke' },
        uid: e.id,
        sequence: e.seq,
        correlation_uid: e.requestId,
        event_code: 'api_token.created',
        log_name: 'audit',
        log_version: 'yoke.audit/1',
        original_time: e.at,
        tenant_uid: e.orgId,
      },
      actor: { user: { uid: e.actor.id, name: e.actor.name, type_id: 1, type: 'User' } },
      api: { operation: 'api_token.created', service: { name: 'Yoke' } },
      resources: [{ uid: e.target.id, name: e.target.name, type: e.target.kind }],
      src_endpoint: { ip: e.ip },
      http_request: { user_agent: e.userAgent },
    });
    expect(record).not.toHaveProperty('status_detail');
  });

  it.each([
    ['denied', 2, 'Failure', 'denied', 3],
    ['failed', 2, 'Failure', 'failed', 2],
    ['success', 1, 'Success', undefined, 1],
  ] as const)('maps the %s outcome to status %i', (outcome, statusId, status, detail, severityId) => {
    const record = toOcsf(sampleEvent({ outcome }));
    expect(record.status_id).toBe(statusId);
    expect(record.status).toBe(status);
    expect(record.status_detail).toBe(detail);
    expect(record.severity_id).toBe(severityId);
  });

  it('maps sign-ins to Authentication logons and sign-outs to logoffs', () => {
    const signIn = toOcsf(sampleEvent({ action: 'auth.sign_in_failed', outcome: 'failed' }));
    expect(signIn).toMatchObject({
      class_uid: 3002,
      category_uid: 3,
      activity_id: 1,
      type_uid: 300201,
      status_id: 2,
      user: { uid: 'b3f0c1de-1111-4222-8333-944455556666', name: 'ada@example.com', type_id: 1 },
      service: { name: 'Yoke' },
      src_endpoint: { ip: '203.0.113.7' },
      http_request: { user_agent: 'Mozilla/5.0 (X11; Linux x86_64)' },
    });
    expect(toOcsf(sampleEvent({ action: 'auth.sign_out' }))).toMatchObject({ activity_id: 2, type_uid: 300202 });
    expect(toOcsf(sampleEvent({ action: 'auth.device_login' }))).toMatchObject({
      activity_id: 1,
      auth_protocol_id: 6,
      auth_protocol: 'OAUTH 2.0',
    });
  });

  it('maps egress to Network Activity: allowed opens, denied refuses, to the destination host', () => {
    const allowed = toOcsf(sampleEvent({ action: 'egress.allowed' }));
    expect(allowed).toMatchObject({
      class_uid: 4001,
      category_uid: 4,
      activity_id: 1,
      dst_endpoint: { hostname: 'api.anthropic.com' },
      connection_info: { direction_id: 2 },
    });
    const denied = toOcsf(sampleEvent({ action: 'egress.denied', outcome: 'denied' }));
    expect(denied).toMatchObject({ activity_id: 5, type_uid: 400105, status_id: 2, status_detail: 'denied' });
    const injected = toOcsf(sampleEvent({ action: 'egress.credential_injected' }));
    expect(injected).toMatchObject({ activity_id: 99, activity_name: 'egress.credential_injected' });
    const byIp = toOcsf(sampleEvent({ action: 'egress.allowed', target: { kind: 'host', id: '198.51.100.4' } }));
    expect(byIp.dst_endpoint).toEqual({ ip: '198.51.100.4' });
    expect(schemaErrors(byIp)).toEqual([]);
  });

  it('maps agent and tool activity to API Activity, its details under unmapped', () => {
    const call = toOcsf(
      sampleEvent({
        action: 'tool.call',
        actor: { kind: 'agent', id: 's-1', onBehalfOf: 'u-1' },
        sessionId: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
        turnId: 't-2',
        contentHash: 'cd'.repeat(32),
      }),
    );
    expect(call).toMatchObject({
      class_uid: 6003,
      activity_id: 99,
      activity_name: 'tool.call',
      api: { operation: 'tool.call' },
      unmapped: {
        actor: { kind: 'agent', onBehalfOf: 'u-1' },
        sessionId: '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d',
        turnId: 't-2',
        contentHash: 'cd'.repeat(32),
        details: { status: 'completed', tool: 'Bash' },
      },
    });
    const decision = toOcsf(sampleEvent({ action: 'policy.decision', outcome: 'denied' }));
    expect(decision).toMatchObject({
      activity_id: 99,
      status_detail: 'denied',
      unmapped: { details: { effect: 'deny' } },
    });
    expect(toOcsf(sampleEvent({ action: 'session.prompt' }))).toMatchObject({ activity_id: 1 });
  });

  it.each([
    ['widget.created', 1],
    ['widget.exported', 2],
    ['widget.settings_changed', 3],
    ['widget.removed', 4],
    ['widget.frobnicated', 99],
    ['egress.rerouted', 99],
  ])('maps the unknown action %s to API Activity by its verb (activity %i)', (action, activityId) => {
    const record = toOcsf(AuditEvent.parse(sampleEvent({ action })));
    expect(record).toMatchObject({ class_uid: 6003, activity_id: activityId, api: { operation: action } });
    expect(schemaErrors(record)).toEqual([]);
  });

  it('keeps an address that is not an IP, and a source without one, valid', () => {
    const odd = toOcsf(sampleEvent({ ip: 'unknown' }));
    expect(odd.src_endpoint).toEqual({ name: 'yoke' });
    expect((odd.unmapped as { ip?: string }).ip).toBe('unknown');
    expect(schemaErrors(odd)).toEqual([]);
    const none = toOcsf(sampleEvent({ ip: null, userAgent: null, requestId: null }));
    expect(none.src_endpoint).toEqual({ name: 'yoke' });
    expect(none).not.toHaveProperty('http_request');
    expect(none.metadata).not.toHaveProperty('correlation_uid');
    expect(schemaErrors(none)).toEqual([]);
  });

  it('refuses records that break the schema (the fixtures are not vacuous)', () => {
    const good = toOcsf(sampleEvent({ action: 'auth.sign_in' }));
    const { user: _user, ...noUser } = good;
    expect(schemaErrors(noUser)).not.toEqual([]);
    expect(schemaErrors({ ...good, invented_attribute: 1 })).not.toEqual([]);
    expect(schemaErrors({ ...good, activity_id: 7 })).not.toEqual([]);
    const api = toOcsf(sampleEvent());
    expect(schemaErrors({ ...api, metadata: { ...(api.metadata as object), version: '1.4.0' } })).not.toEqual([]);
    expect(schemaErrors({ ...api, src_endpoint: { ip: 'not-an-ip' } })).not.toEqual([]);
    expect(schemaErrors({ ...api, actor: {} })).not.toEqual([]);
  });

  it('gives the same bytes for the same event, whatever the order of its details', () => {
    const a = toOcsf(sampleEvent({ details: { b: 1, a: 'x' } }));
    const b = toOcsf(sampleEvent({ details: { a: 'x', b: 1 } }));
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('renders every valid event as a record valid against its class schema', () => {
    fc.assert(
      fc.property(auditEventArb, (e) => {
        expect(AuditEvent.safeParse(e).success).toBe(true);
        const record = toOcsf(e);
        expect(schemaErrors(record)).toEqual([]);
        expect(record.type_uid).toBe((record.class_uid as number) * 100 + (record.activity_id as number));
        expect(record.time).toBe(Date.parse(e.at));
        expect(Object.keys(record.unmapped as object).every((k) => UNMAPPED_KEYS.includes(k))).toBe(true);
        expect(JSON.stringify(toOcsf(structuredClone(e)))).toBe(JSON.stringify(record));
      }),
      { numRuns: 300 },
    );
  });
});
