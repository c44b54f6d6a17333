import { isIP } from 'node:net';
import type { AuditActor, AuditActorKind, AuditDetails, AuditEvent, AuditOutcome, AuditTarget } from '@yoke/protocol';

/**
 * The OCSF view of an audit event (DESIGN §9, export format `ocsf`): one OCSF record per event, schema version
 * pinned. Records are checked in tests against the JSON Schema subset in `test/fixtures/ocsf/`, written from the
 * OCSF 1.3.0 definitions.
 *
 * Three classes are emitted:
 * - Authentication (3002): sign-in, sign-out, failed sign-in, CLI device login, and a runner's socket connecting and
 *   disconnecting (the runner presents its credential at the handshake: the logon of a machine principal).
 * - Network Activity (4001): egress. The egress event names a destination host and an allow/deny decision; it does
 *   not carry an HTTP exchange. HTTP Activity (4002) requires `http_request` and `http_response` (with a response
 *   code) in 1.3.0, which we would have to invent, and an HTTPS destination is decided per connection before any
 *   request is seen. Network Activity needs only `dst_endpoint`, and its activities say what happened: Open (the
 *   connection was let through) and Refuse (it was not).
 * - API Activity (6003): every control-plane change, audit read and export, and everything else, including any
 *   action added later. Agent and tool activity (`tool.call`, `policy.decision`, `session.prompt`) goes here too:
 *   from the control plane an agent invokes a named operation on a resource (its session) with a result, which is
 *   what API Activity describes. Process Activity (1007) would need a `process` we do not have (a tool call may be a
 *   file edit or a web fetch, and events carry no command line by design); Application Lifecycle (6002) is about
 *   installing, starting and stopping applications. OCSF's later AI Agent Activity class (Tool Use, Permission
 *   Request, User Prompt Submit) fits better once a released version we pin has it.
 *
 * Every Yoke field without an OCSF home is kept under `unmapped`, under its Yoke name. Events carry no content
 * (prompts, commands, tool input or output) by contract, so neither does a record.
 */
export const OCSF_VERSION = '1.3.0';

type ClassKey = 'authentication' | 'network_activity' | 'api_activity';

/** Class and activity ids and captions, as in OCSF 1.3.0 (only the activities we use, and Other). */
const CLASSES = {
  authentication: {
    uid: 3002,
    name: 'Authentication',
    categoryUid: 3,
    categoryName: 'Identity & Access Management',
    activities: { Logon: 1, Logoff: 2, Other: 99 },
  },
  network_activity: {
    uid: 4001,
    name: 'Network Activity',
    categoryUid: 4,
    categoryName: 'Network Activity',
    activities: { Open: 1, Refuse: 5, Other: 99 },
  },
  api_activity: {
    uid: 6003,
    name: 'API Activity',
    categoryUid: 6,
    categoryName: 'Application Activity',
    activities: { Create: 1, Read: 2, Update: 3, Delete: 4, Other: 99 },
  },
} as const;

type Activity<K extends ClassKey> = keyof (typeof CLASSES)[K]['activities'];

type Mapping =
  | { cls: 'authentication'; activity: Activity<'authentication'>; oauth?: true }
  | { cls: 'network_activity'; activity: Activity<'network_activity'> }
  | { cls: 'api_activity'; activity: Activity<'api_activity'>; severityId?: number };

const auth = (activity: Activity<'authentication'>, oauth?: true): Mapping => ({
  cls: 'authentication',
  activity,
  oauth,
});
const net = (activity: Activity<'network_activity'>): Mapping => ({ cls: 'network_activity', activity });
const api = (activity: Activity<'api_activity'>, severityId?: number): Mapping => ({
  cls: 'api_activity',
  activity,
  severityId,
});

/** The server's catalogue (docs/audit.md). Actions not listed map by their verb (`verbMapping`). */
const CATALOGUE: ReadonlyMap<string, Mapping> = new Map([
  ['auth.sign_in', auth('Logon')],
  ['auth.sign_in_failed', auth('Logon')],
  ['auth.sign_out', auth('Logoff')],
  // The CLI's device authorization grant (RFC 8628) is OAuth 2.0.
  ['auth.device_login', auth('Logon', true)],
  ['runner.connected', auth('Logon')],
  ['runner.disconnected', auth('Logoff')],

  ['egress.allowed', net('Open')],
  ['egress.denied', net('Refuse')],
  ['egress.credential_injected', net('Other')],

  ['api_token.created', api('Create')],
  ['api_token.revoked', api('Delete')],
  ['member.invited', api('Create')],
  ['member.role_changed', api('Update')],
  ['member.removed', api('Delete')],
  ['invitation.accepted', api('Update')],
  ['org.created', api('Create')],
  ['sso.updated', api('Update')],
  ['runner.enrolment_created', api('Create')],
  ['runner.enrolled', api('Create')],
  ['runner.rotated', api('Update')],
  ['runner.revoked', api('Delete')],
  ['session.created', api('Create')],
  ['session.forked', api('Create')],
  ['session.cancelled', api('Update')],
  ['session.archived', api('Update')],
  ['session.restored', api('Update')],
  // A prompt adds a turn to the session.
  ['session.prompt', api('Create')],
  ['share.created', api('Create')],
  // Redeeming a link creates a grant on the session.
  ['share.redeemed', api('Create')],
  ['share.revoked', api('Delete')],
  ['share.granted', api('Create')],
  ['guest.joined', api('Read')],
  ['comment.created', api('Create')],
  ['policy_set.changed', api('Update')],
  ['policy.decision', api('Other')],
  ['approval.requested', api('Create')],
  ['approval.decided', api('Update')],
  ['tool.call', api('Other')],
  // Crossing a spend threshold asks for attention even though nothing failed.
  ['spend.threshold_crossed', api('Other', 3)],
  ['audit.read', api('Read')],
  ['audit.exported', api('Read')],
  ['audit.downloaded', api('Read')],
  ['audit.checkpoint_key_rotated', api('Update')],
]);

const VERBS: ReadonlyArray<[RegExp, Activity<'api_activity'>]> = [
  [/(^|_)(created|added|invited|enrolled|granted)$/, 'Create'],
  [/(^|_)(read|viewed|listed|exported|downloaded)$/, 'Read'],
  [/(^|_)(updated|changed|rotated|renamed|accepted)$/, 'Update'],
  [/(^|_)(deleted|removed|revoked)$/, 'Delete'],
];

/** An action outside the catalogue is API Activity, its activity read from the verb: it never fails to map. */
function verbMapping(action: string): Mapping {
  const verb = action.slice(action.lastIndexOf('.') + 1);
  for (const [pattern, activity] of VERBS) if (pattern.test(verb)) return api(activity);
  return api('Other');
}

function mappingOf(action: string): Mapping {
  return CATALOGUE.get(action) ?? verbMapping(action);
}

/** `status_id`/`status` from the outcome; `denied` and `failed` are both Failure, told apart by `status_detail`. */
const STATUS: Record<AuditOutcome, { id: number; name: string; detail?: string }> = {
  success: { id: 1, name: 'Success' },
  denied: { id: 2, name: 'Failure', detail: 'denied' },
  failed: { id: 2, name: 'Failure', detail: 'failed' },
};

/** Refusals are what a security team looks for first; failures are worth a look; the rest is informational. */
const SEVERITY_BY_OUTCOME: Record<AuditOutcome, number> = { success: 1, failed: 2, denied: 3 };
const SEVERITY_NAMES: Record<number, string> = { 1: 'Informational', 2: 'Low', 3: 'Medium' };

/** The user object's `type_id` (1.3.0: Unknown, User, Admin, System, Other) and `type` for each actor kind. */
const USER_TYPES: Record<AuditActorKind, { id: number; name: string }> = {
  user: { id: 1, name: 'User' },
  guest: { id: 99, name: 'Guest' },
  token: { id: 99, name: 'API Token' },
  runner: { id: 99, name: 'Runner' },
  agent: { id: 99, name: 'Agent' },
  system: { id: 3, name: 'System' },
};

/** Fresh objects per record, so a consumer that edits one record edits no other. */
const product = () => ({ name: 'Yoke', vendor_name: 'Yoke' });
const service = () => ({ name: 'Yoke' });

/**
 * The OCSF record of an audit event. Pure and deterministic: the same event gives a record that serialises to the
 * same bytes (keys in a fixed order, `details` sorted). Never throws for a valid event, whatever its action.
 */
export function toOcsf(e: AuditEvent): Record<string, unknown> {
  const mapping = mappingOf(e.action);
  const cls = CLASSES[mapping.cls];
  const activities: Record<string, number> = cls.activities;
  const activityId = activities[mapping.activity];
  const status = STATUS[e.outcome];
  const floor = mapping.cls === 'api_activity' ? (mapping.severityId ?? 1) : 1;
  const severityId = Math.max(SEVERITY_BY_OUTCOME[e.outcome], floor);
  const validIp = e.ip !== null && isIP(e.ip) !== 0 ? e.ip : null;

  const record: Record<string, unknown> = {
    activity_id: activityId,
    // With Other, OCSF reads the source's own name for the activity here.
    activity_name: mapping.activity === 'Other' ? e.action : mapping.activity,
    category_uid: cls.categoryUid,
    category_name: cls.categoryName,
    class_uid: cls.uid,
    class_name: cls.name,
    type_uid: cls.uid * 100 + activityId,
    type_name: `${cls.name}: ${String(mapping.activity)}`,
    severity_id: severityId,
    severity: SEVERITY_NAMES[severityId],
    status_id: status.id,
    status: status.name,
    ...(status.detail ? { status_detail: status.detail } : {}),
    time: Date.parse(e.at),
    message: `${e.action} (${e.outcome})`,
    metadata: metadataOf(e),
  };

  const unmapped: Record<string, unknown> = {};
  switch (mapping.cls) {
    case 'authentication':
      record.user = userOf(e.actor);
      record.service = service();
      if (mapping.oauth) Object.assign(record, { auth_protocol_id: 6, auth_protocol: 'OAUTH 2.0' });
      if (validIp) record.src_endpoint = { ip: validIp };
      if (e.userAgent !== null) record.http_request = { user_agent: e.userAgent };
      unmapped.actor = actorRest(e.actor);
      unmapped.target = targetOf(e.target);
      break;
    case 'network_activity':
      record.dst_endpoint = destinationOf(e.target);
      if (validIp) record.src_endpoint = { ip: validIp };
      // Egress is the agent's traffic leaving the sandbox.
      record.connection_info = { direction_id: 2, direction: 'Outbound' };
      // Network Activity has no actor attribute in 1.3.0 (only through the host profile, which we do not apply).
      unmapped.actor = actorWhole(e.actor);
      unmapped.target = targetOf(e.target);
      if (e.userAgent !== null) unmapped.userAgent = e.userAgent;
      break;
    case 'api_activity':
      record.actor = { user: userOf(e.actor) };
      record.api = { operation: e.action, service: service() };
      record.resources = [resourceOf(e.target)];
      // Required in API Activity: without a client address the activity came through Yoke itself (a job, the
      // runner link, an agent's turn).
      record.src_endpoint = validIp ? { ip: validIp } : { name: 'yoke' };
      if (e.userAgent !== null) record.http_request = { user_agent: e.userAgent };
      unmapped.actor = actorRest(e.actor);
      break;
  }
  if (e.ip !== null && validIp === null) unmapped.ip = e.ip;
  if (e.sessionId !== null) unmapped.sessionId = e.sessionId;
  if (e.turnId !== null) unmapped.turnId = e.turnId;
  if (e.contentHash !== null) unmapped.contentHash = e.contentHash;
  unmapped.details = sortedDetails(e.details);
  record.unmapped = unmapped;
  return record;
}

function metadataOf(e: AuditEvent): Record<string, unknown> {
  return {
    version: OCSF_VERSION,
    product: product(),
    uid: e.id,
    sequence: e.seq,
    ...(e.requestId !== null ? { correlation_uid: e.requestId } : {}),
    event_code: e.action,
    log_name: 'audit',
    log_version: e.schema,
    original_time: e.at,
    tenant_uid: e.orgId,
  };
}

function userOf(actor: AuditActor): Record<string, unknown> {
  const type = USER_TYPES[actor.kind];
  return {
    uid: actor.id,
    ...(actor.name !== undefined ? { name: actor.name } : {}),
    type_id: type.id,
    type: type.name,
  };
}

/** What the OCSF user object does not say about an actor: its Yoke kind and whom it acts for. */
function actorRest(actor: AuditActor): Record<string, unknown> {
  return { kind: actor.kind, ...(actor.onBehalfOf !== undefined ? { onBehalfOf: actor.onBehalfOf } : {}) };
}

function actorWhole(actor: AuditActor): Record<string, unknown> {
  return {
    kind: actor.kind,
    id: actor.id,
    ...(actor.name !== undefined ? { name: actor.name } : {}),
    ...(actor.onBehalfOf !== undefined ? { onBehalfOf: actor.onBehalfOf } : {}),
  };
}

function targetOf(target: AuditTarget): Record<string, unknown> {
  return { kind: target.kind, id: target.id, ...(target.name !== undefined ? { name: target.name } : {}) };
}

function resourceOf(target: AuditTarget): Record<string, unknown> {
  return {
    ...(target.id !== '' ? { uid: target.id } : {}),
    ...(target.name !== undefined ? { name: target.name } : {}),
    type: target.kind,
  };
}

/** The egress destination: a host target is the endpoint's hostname (or its ip when it is an address). */
function destinationOf(target: AuditTarget): Record<string, unknown> {
  if (target.kind === 'host' && target.id !== '') {
    return isIP(target.id) !== 0 ? { ip: target.id } : { hostname: target.id };
  }
  return { name: target.name || target.id || target.kind };
}

function sortedDetails(details: AuditDetails): AuditDetails {
  // `<` on keys: UTF-16 code-unit order, as RFC 8785 sorts. fromEntries defines own keys, so `__proto__` is safe.
  return Object.fromEntries(Object.entries(details).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
