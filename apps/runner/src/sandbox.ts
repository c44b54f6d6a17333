import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { directLauncher, type ProcessLauncher, type ProviderEnv } from '@yoke/harness';
import {
  assertSandboxWorks,
  CertificateAuthority,
  type EgressAllowance,
  type EgressDenial,
  EgressProxy,
  type MeteredCall,
  isPrivateHost,
  SandboxUnavailableError,
  spawnSandboxed,
} from '@yoke/omnibox';
import {
  agentSource,
  compilePolicies,
  effectiveEgress,
  orgPriceTable,
  policyStack,
  sandboxNoneAllowed,
} from '@yoke/policy';
import { type ItemBody, type PriceTable, priceCallFor, type SessionStartSpec } from '@yoke/protocol';
import { reapedLauncher } from './orphan-reaper';

/** Where a sandbox's harness finds a model server that listens on the runner host's own loopback. */
export const HOST_ALIAS = 'host.yoke.internal';

const ANTHROPIC_DEFAULT = 'https://api.anthropic.com';
const OPENAI_DEFAULT = 'https://api.openai.com/v1';
const GEMINI_DEFAULT = 'https://generativelanguage.googleapis.com';

/** `YOKE_SANDBOX=none` on the runner: the administrator's explicit opt-out, recorded on every session it affects. */
export type SandboxMode = 'omnibox' | 'none';

export function sandboxModeFromEnv(env: NodeJS.ProcessEnv = process.env): SandboxMode {
  const v = (env.YOKE_SANDBOX ?? '').trim().toLowerCase();
  if (v === '' || v === 'omnibox' || v === 'bwrap') return 'omnibox';
  if (v === 'none') return 'none';
  throw new Error(`YOKE_SANDBOX must be "omnibox" (the default) or "none", not ${JSON.stringify(env.YOKE_SANDBOX)}`);
}

export interface SessionSandbox {
  /** Spawns every harness process inside Omnibox. */
  launch: ProcessLauncher;
  /** What the harness is told: base URLs it can reach through the proxy, placeholders instead of keys. */
  provider: ProviderEnv;
  mode: SandboxMode;
  /** The hosts the proxy lets through, for the record. */
  allow: string[];
  /**
   * Whether the proxy meters model calls (`metered_usage` items): then cost policies count what the provider said,
   * not what the harness reports.
   */
  metered: boolean;
  close(): Promise<void>;
}

export interface SessionSandboxInput {
  spec: SessionStartSpec;
  workspace: string;
  provider: ProviderEnv;
  mode: SandboxMode;
  ca: CertificateAuthority;
  /** Each refusal of the proxy, recorded by the session as an item. */
  onDenied: (denial: EgressDenial) => void;
  /** What the proxy lets through, recorded by the session as an item (the caller decides how often). */
  onAllowed?: (allowance: EgressAllowance) => void;
  /** Each model API call with the usage the provider's response reported, read by the proxy as it streamed. */
  onMetered?: (call: MeteredCall) => void;
  /** Overrides where names really are (tests); default: `HOST_ALIAS` to the host loopback, DNS otherwise. */
  resolve?: (host: string, port: number) => Promise<{ host: string; port: number }> | null;
}

interface ModelRoute {
  /** The base URL the harness uses inside. */
  inside: string;
  /** An allow rule for it. */
  rule: string;
  /** Host glob the key may be sent to. */
  keyHost: string;
}

/** Rewrites a provider base URL for use inside the sandbox: host loopback becomes `HOST_ALIAS` (same port). */
export function modelRoute(baseUrl: string): ModelRoute {
  const url = new URL(baseUrl);
  const defaultPort = url.protocol === 'https:' ? 443 : 80;
  const port = url.port ? Number(url.port) : defaultPort;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (isPrivateHost(host)) {
    if (!['127.0.0.1', 'localhost', '::1'].includes(host)) {
      throw new Error(`a model base URL on a private network (${host}) cannot be reached from the sandbox`);
    }
    url.hostname = HOST_ALIAS;
    return { inside: url.toString().replace(/\/$/, ''), rule: `${HOST_ALIAS}:${port}`, keyHost: HOST_ALIAS };
  }
  return { inside: baseUrl, rule: port === defaultPort ? host : `${host}:${port}`, keyHost: host };
}

/** The session's policies in the order the gate uses (org, agent, session), plus the agent's own network list. */
function egressOf(spec: SessionStartSpec): { allow: string[] | null; deny: string[] } {
  const entries = policyStack(spec);
  const agentAllow = spec.agent.sandbox.network.allow;
  if (agentAllow.length) {
    entries.push({
      level: 'agent',
      spec: { type: 'egress', allow: agentAllow },
      origin: `${agentSource(spec.agent.name)} sandbox.network`,
    });
  }
  return effectiveEgress(compilePolicies(entries));
}

/** Names under which secrets of the runner's own environment appear: never passed into a sandbox. */
const SECRET_NAME = /(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|DATABASE_URL|REDIS_URL|COOKIE|SESSION)/i;

/** Inherited from the runner as they are, only these pass into a sandbox; the rest of its environment stays out. */
const PASS_LIST = /^(PATH|LANG|LANGUAGE|LC_[A-Z]+|TZ|TERM|COLORTERM|NO_COLOR|FORCE_COLOR)$/;

/**
 * A harness environment as it may enter the sandbox: what the adapter set itself (values differing from the
 * runner's own) plus the pass-list, and never anything carrying a secret of the runner (by name or by value).
 */
export function scrubEnv(env: Record<string, string>, host: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const secretValues = new Set(
    Object.entries(host)
      .filter(([k, v]) => SECRET_NAME.test(k) && v && v.length >= 6)
      .map(([, v]) => v as string),
  );
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (host[k] === v && !PASS_LIST.test(k)) continue;
    if (secretValues.has(v)) continue;
    if ([...secretValues].some((s) => v.includes(s))) continue;
    out[k] = v;
  }
  return out;
}

/** The install the runner's code lives in (the top-most directory holding `node_modules`): bound read-only. */
function codeRoot(): string {
  let dir = realpathSync(__dirname);
  let found: string | null = null;
  for (let i = 0; i < 12 && dir !== dirname(dir); i++, dir = dirname(dir)) {
    if (existsSync(join(dir, 'node_modules'))) found = dir;
  }
  return found ?? realpathSync(join(__dirname, '..'));
}

function realOrNull(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

/**
 * Builds one session's sandbox: an egress proxy (allow list = the model endpoints + agent `sandbox.network.allow`,
 * narrowed by egress policies; model keys injected only towards their endpoints) and a launcher that runs every
 * harness process inside Omnibox, talking to the proxy through the bridge. Throws `SandboxUnavailableError` (with
 * how to fix it) when bwrap cannot run here.
 */
export async function createSessionSandbox(input: SessionSandboxInput): Promise<SessionSandbox> {
  if (input.mode === 'none') {
    // Unsandboxed harnesses lead their own process groups: the reaper kills them if this process dies first.
    const launch = reapedLauncher(directLauncher);
    return { launch, provider: input.provider, mode: 'none', allow: [], metered: false, close: async () => undefined };
  }
  await assertSandboxWorksOnce();

  const anthropic = modelRoute(input.provider.anthropicBaseUrl || ANTHROPIC_DEFAULT);
  const openai = modelRoute(input.provider.openaiBaseUrl || OPENAI_DEFAULT);
  const gemini = modelRoute(input.provider.geminiBaseUrl || GEMINI_DEFAULT);
  const { allow: policyAllow, deny } = egressOf(input.spec);
  const allow = [...new Set([anthropic.rule, openai.rule, gemini.rule, ...(policyAllow ?? [])])];
  const aliasPorts = new Set(
    [anthropic, openai, gemini].filter((r) => r.keyHost === HOST_ALIAS).map((r) => Number(r.rule.split(':')[1])),
  );
  const proxy = new EgressProxy({
    allow,
    deny,
    ca: input.ca,
    // Every https request is opened (the sandbox trusts the runner CA), so a placeholder bound for any host but its
    // own is seen and refused, and path rules apply everywhere.
    interceptTls: 'always',
    onDenied: input.onDenied,
    onAllowed: input.onAllowed,
    onMetered: input.onMetered,
    resolve: async (host, port) => {
      const custom = input.resolve?.(host, port);
      if (custom) return custom;
      if (host === HOST_ALIAS) {
        if (!aliasPorts.has(port)) throw new Error(`${HOST_ALIAS}:${port} is not a model endpoint`);
        return { host: '127.0.0.1', port };
      }
      const { dnsResolver } = await import('@yoke/omnibox');
      return dnsResolver(host, port);
    },
  });
  const provider: ProviderEnv = {
    anthropicBaseUrl: anthropic.inside,
    openaiBaseUrl: openai.inside,
    geminiBaseUrl: gemini.inside,
  };
  if (input.provider.anthropicApiKey) {
    provider.anthropicApiKey = proxy.addSecret({
      name: 'anthropic',
      value: input.provider.anthropicApiKey,
      hosts: [anthropic.keyHost],
    });
  }
  if (input.provider.openaiApiKey) {
    provider.openaiApiKey = proxy.addSecret({
      name: 'openai',
      value: input.provider.openaiApiKey,
      hosts: [openai.keyHost],
    });
  }
  if (input.provider.geminiApiKey) {
    provider.geminiApiKey = proxy.addSecret({
      name: 'gemini',
      value: input.provider.geminiApiKey,
      hosts: [gemini.keyHost],
    });
  }
  const root = codeRoot();
  const launch: ProcessLauncher = (command, args, opts) => {
    const codePaths = new Set<string>();
    for (const p of opts.codePaths ?? []) {
      const real = realOrNull(p);
      if (real && !real.startsWith(`${root}/`) && real !== root) codePaths.add(real);
    }
    const env = scrubEnv({ ...opts.env });
    delete env.HOME;
    if (opts.home) mkdirSync(opts.home, { recursive: true, mode: 0o700 });
    const homeReal = opts.home ? realOrNull(opts.home) : null;
    const home = homeReal && opts.home ? { path: opts.home, source: homeReal } : null;
    const child = spawnSandboxed(command, args, {
      workspace: realOrNull(opts.cwd) ?? opts.cwd,
      env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
      home: home ? { path: home.path, binds: [{ source: home.source, dest: home.path, readOnly: false }] } : undefined,
      binds: [{ source: root }, ...[...codePaths].map((source) => ({ source }))],
      network: { proxy: proxy.handleConnection, caCertPem: input.ca.certPem, hostBridge: opts.hostsBridge === true },
    });
    return child as unknown as ChildProcessWithoutNullStreams;
  };
  return { launch, provider, mode: 'omnibox', allow, metered: !!input.onMetered, close: () => proxy.close() };
}

let works: Promise<void> | null = null;

/** bwrap must really start a sandbox with the filter in force, checked once per runner process (then cached). */
function assertSandboxWorksOnce(): Promise<void> {
  works ??= assertSandboxWorks().catch((e: unknown) => {
    works = null; // a fix (installing bwrap) takes effect without a restart
    throw e instanceof SandboxUnavailableError
      ? new SandboxUnavailableError(
          `${e.message.replace(/\. .*$/, '')} — the runner refuses to start harness sessions unsandboxed`,
          `${e.fix}. An administrator may run this runner with YOKE_SANDBOX=none, or an org admin apply the policy ` +
            '{ type: sandbox, allow_none: true }, to accept unsandboxed sessions (recorded on each)',
        )
      : e;
  });
  return works;
}

/** What a session gives its sandbox factory. */
export interface SessionSandboxContext {
  spec: SessionStartSpec;
  workspace: string;
  /** Records an item on the session (egress denials, the `sandbox: none` notice). */
  record: (body: ItemBody) => void;
}

export type SessionSandboxFactory = (ctx: SessionSandboxContext) => Promise<SessionSandbox>;

/** The runner's factory: one CA per runner process, one proxy per session, every denial recorded as an item. */
export function runnerSandboxFactory(opts: {
  provider: ProviderEnv;
  mode: SandboxMode;
  ca?: CertificateAuthority;
}): SessionSandboxFactory {
  // One CA per runner process: concurrent first sessions share the one being created.
  let ca: Promise<CertificateAuthority> | null = opts.ca ? Promise.resolve(opts.ca) : null;
  return async ({ spec, workspace, record }) => {
    if (opts.mode === 'none') {
      record({
        type: 'notice',
        level: 'warning',
        text:
          'sandbox: none — this runner runs harnesses without Omnibox (YOKE_SANDBOX=none set by its administrator): ' +
          'the harness sees the host file system, network and the model keys',
      });
    }
    // The org's own prices, if it set any: metered calls are priced with them first.
    const orgTable = orgPriceTable(policyStack(spec));
    ca ??= CertificateAuthority.create({ commonName: 'Yoke runner egress CA' });
    const authority = await ca;
    try {
      return await createSessionSandbox({
        spec,
        workspace,
        provider: opts.provider,
        mode: opts.mode,
        ca: authority,
        onDenied: (d) =>
          record({
            type: 'egress',
            decision: 'denied',
            method: d.method.slice(0, 20),
            host: d.host.slice(0, 300),
            port: d.port,
            ...(d.path !== undefined ? { path: d.path.slice(0, 4096) } : {}),
            code: d.code,
            reason: d.reason.slice(0, 4000),
          }),
        // A host is recorded once per set of credentials swapped in for it (the first request that used them), not
        // per request: the record says who reached what with which secret, not every packet.
        onAllowed: ((seen: Set<string>) => (a: EgressAllowance) => {
          const key = `${a.host}:${a.port}:${a.credentials.join(',')}`;
          if (seen.has(key) || seen.size > 1000) return;
          seen.add(key);
          record({
            type: 'egress',
            decision: 'allowed',
            method: a.method.slice(0, 20),
            host: a.host.slice(0, 300),
            port: a.port,
            ...(a.credentials.length ? { credentials: a.credentials } : {}),
          });
        })(new Set<string>()),
        onMetered: (call) => record(meteredItem(call, orgTable)),
      });
    } catch (e) {
      // Fail closed, unless the org's policies explicitly accept unsandboxed sessions where bwrap cannot run.
      if (!(e instanceof SandboxUnavailableError) || !sandboxNoneAllowed(spec.policies)) throw e;
      record({
        type: 'notice',
        level: 'warning',
        text:
          `sandbox: none — Omnibox cannot run on this runner (${e.message}); an org policy allows unsandboxed ` +
          'sessions, so the harness sees the host file system, network and the model keys',
      });
      return createSessionSandbox({
        spec,
        workspace,
        provider: opts.provider,
        mode: 'none',
        ca: authority,
        onDenied: () => undefined,
      });
    }
  };
}

/**
 * A metered call as a session item, priced in integer micro-dollars at the org's own prices where its `price_table`
 * policy has the model, else at Yoke's price table.
 */
export function meteredItem(
  call: MeteredCall,
  orgTable: PriceTable | null = null,
): Extract<ItemBody, { type: 'metered_usage' }> {
  const tokens = {
    inputTokens: call.inputTokens,
    outputTokens: call.outputTokens,
    cacheReadTokens: call.cacheReadTokens,
    cacheWriteTokens: call.cacheWriteTokens,
  };
  const { costMicros, priceVersion } = priceCallFor(call.model, tokens, orgTable);
  return {
    type: 'metered_usage',
    provider: call.provider,
    api: call.api,
    host: call.host.slice(0, 300),
    model: call.model.slice(0, 200),
    ...tokens,
    reasoningTokens: call.reasoningTokens,
    costMicros,
    priceVersion,
    ...(call.requestId ? { requestId: call.requestId.slice(0, 300) } : {}),
    streamed: call.streamed,
  };
}
