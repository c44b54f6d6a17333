import { lookup } from 'node:dns/promises';
import { chmodSync, rmSync } from 'node:fs';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  request as httpRequest,
  type Server,
  type ServerResponse,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createSecureContext, rootCertificates, type SecureContext, TLSSocket } from 'node:tls';
import {
  type EgressDenyCode,
  EgressPolicy,
  type EgressRules,
  type EgressSecret,
  isPrivateHost,
  SecretVault,
} from './egress-rules';
import { type MeteredCall, UsageMeter } from './metering';
import type { CertificateAuthority } from './tls-ca';

export interface EgressDenial {
  host: string;
  port: number;
  method: string;
  /** Known for plain http and intercepted https. */
  path?: string;
  code: EgressDenyCode;
  reason: string;
}

/** A request or tunnel let through, with the names of the credentials swapped in for it (never their values). */
export interface EgressAllowance {
  host: string;
  port: number;
  method: string;
  path?: string;
  credentials: string[];
}

/** Where a host really is. The default looks it up in DNS; tests map names to local ports, so nothing leaves. */
export type EgressResolver = (host: string, port: number) => Promise<{ host: string; port: number }>;

export interface EgressProxyOptions extends EgressRules {
  /** Secrets the sandbox sees only as placeholders (`placeholder(name)`), swapped in for their approved hosts. */
  secrets?: EgressSecret[];
  /** Every refusal, to record as an item (the runner's job). Exceptions thrown here are ignored. */
  onDenied?: (denial: EgressDenial) => void;
  /** Every request and opaque tunnel let through, to record (the runner's job). Exceptions thrown here are ignored. */
  onAllowed?: (allowance: EgressAllowance) => void;
  /**
   * Every model API call (Anthropic Messages, OpenAI Responses, Chat Completions) with the usage its provider
   * reported, read from the response as it streams to the client, once at its end. Exceptions thrown here are
   * ignored. Without it, responses are not looked at.
   */
  onMetered?: (call: MeteredCall) => void;
  resolve?: EgressResolver;
  /** The runner CA: https to hosts with secrets or path rules is intercepted with it. Without it, only tunnels. */
  ca?: CertificateAuthority;
  /** `secrets` (default): intercept only where needed; `always`: every allowed https host; `never`. */
  interceptTls?: 'secrets' | 'always' | 'never';
  /** Extra trusted roots for upstream TLS (tests' local upstreams); the system roots otherwise. */
  upstreamCa?: string | string[];
}

export const DENY_REASON_HEADER = 'x-yoke-deny-reason';

/** How long an opened tunnel waits for the client's first bytes before treating it as server-speaks-first. */
const SNIFF_WAIT_MS = 500;

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** The default resolver: DNS, then refuse names that point at local or private addresses (DNS rebinding). */
export const dnsResolver: EgressResolver = async (host, port) => {
  const { address } = await lookup(host);
  if (isPrivateHost(address)) throw new EgressRefusal('private_address', `${host} resolves to a private address`);
  return { host: address, port };
};

class EgressRefusal extends Error {
  constructor(
    readonly code: EgressDenyCode,
    message: string,
  ) {
    super(message);
  }
}

function splitAuthority(authority: string, defaultPort: number): { host: string; port: number } | null {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(authority);
  if (!m) return null;
  return { host: m[1].replace(/^\[|\]$/g, '').toLowerCase(), port: m[2] ? Number(m[2]) : defaultPort };
}

/**
 * The per-session egress proxy: plain HTTP forwarding and CONNECT tunnels, allow/deny host globs (403 with
 * `x-yoke-deny-reason`), credential placeholders swapped for real values only towards approved hosts, and TLS
 * interception with the runner CA where a decision or an injection needs to see inside https.
 */
export class EgressProxy {
  private policy: EgressPolicy;
  private readonly vault = new SecretVault();
  private readonly server: Server;
  private readonly intercepted: Server;
  private readonly targets = new WeakMap<Socket, { host: string; port: number; tls: boolean }>();
  private readonly contexts = new Map<string, Promise<SecureContext>>();
  private socketPath: string | null = null;
  /** Every client connection (tunnels included, which the http server stops tracking), destroyed on close. */
  private readonly sockets = new Set<Socket>();

  constructor(private readonly opts: EgressProxyOptions) {
    this.policy = new EgressPolicy(opts);
    for (const secret of opts.secrets ?? []) this.vault.add(secret);
    this.server = createServer((req, res) => void this.forwardPlain(req, res));
    this.server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.onConnect(req, socket as Socket, head);
    });
    this.server.on('clientError', (_err, socket) => socket.destroy());
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    this.intercepted = createServer((req, res) => void this.forwardIntercepted(req, res));
    this.intercepted.on('clientError', (_err, socket) => socket.destroy());
  }

  /** The stand-in for a secret, to put in the sandbox's environment or config files. */
  placeholder(name: string): string {
    const p = this.vault.placeholder(name);
    if (!p) throw new Error(`no secret named ${name}`);
    return p;
  }

  addSecret(secret: EgressSecret): string {
    return this.vault.add(secret);
  }

  /** Replaces the allow/deny lists (a policy changed mid-session); open tunnels keep going. */
  setRules(rules: EgressRules): void {
    this.policy = new EgressPolicy(rules);
  }

  /** Serves on a Unix socket (mode 0600), replacing a stale one. */
  listen(socketPath: string): Promise<void> {
    rmSync(socketPath, { force: true });
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(socketPath, () => {
        this.server.off('error', reject);
        try {
          chmodSync(socketPath, 0o600);
        } catch (e) {
          this.server.close();
          reject(e as Error);
          return;
        }
        this.socketPath = socketPath;
        resolve();
      });
    });
  }

  /**
   * Serves one already-connected client (what the sandbox bridge hands over). Its writes go out at once: the socket
   * was accepted inside the sandbox, not by this server, so it does not have the http server's no-delay, and Nagle's
   * algorithm held each small write of a streamed answer (an event of a model's stream) until the harness acknowledged
   * the one before: ~13 ms between a model's first text and the harness, at p50.
   */
  handleConnection = (socket: Socket): void => {
    socket.setNoDelay(true);
    this.server.emit('connection', socket);
  };

  /** Stops listening, removes the socket file at once (a new proxy may take the path), ends every connection. */
  close(): Promise<void> {
    if (this.socketPath) {
      rmSync(this.socketPath, { force: true });
      this.socketPath = null;
    }
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    this.intercepted.closeAllConnections();
    if (!this.server.listening) return Promise.resolve();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private deny(d: EgressDenial): void {
    try {
      this.opts.onDenied?.(d);
    } catch {
      // the recorder's failure never opens the gate
    }
  }

  private allow(a: EgressAllowance): void {
    try {
      this.opts.onAllowed?.(a);
    } catch {
      // recording is not the gate's business
    }
  }

  private metered(call: MeteredCall): void {
    try {
      this.opts.onMetered?.(call);
    } catch {
      // recording is not the proxy's business
    }
  }

  private refuse(res: ServerResponse, d: EgressDenial): void {
    this.deny(d);
    const body = JSON.stringify({ error: 'egress_denied', code: d.code, reason: d.reason, host: d.host });
    res.writeHead(403, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      [DENY_REASON_HEADER]: `${d.code}: ${d.reason}`,
      connection: 'close',
    });
    res.end(body);
  }

  private async resolve(host: string, port: number): Promise<{ host: string; port: number }> {
    return (this.opts.resolve ?? dnsResolver)(host, port);
  }

  /** Swaps placeholders in the URL path and headers; a placeholder aimed at another host refuses the request. */
  private inject(
    headers: IncomingHttpHeaders,
    path: string,
    host: string,
    port: number,
  ): { ok: true; headers: OutgoingHttpHeaders; path: string; used: string[] } | { ok: false; secret: string } {
    const out: OutgoingHttpHeaders = {};
    const p = this.vault.substitute(path, host, port);
    if (!p.ok) return p;
    const used = new Set(p.used);
    for (const [key, value] of Object.entries(headers)) {
      if (value === undefined || HOP_BY_HOP.has(key)) continue;
      const values = Array.isArray(value) ? value : [value];
      const swapped: string[] = [];
      for (const v of values) {
        const s = this.vault.substituteHeader(key, v, host, port);
        if (!s.ok) return s;
        for (const name of s.used) used.add(name);
        swapped.push(s.value);
      }
      out[key] = Array.isArray(value) ? swapped : swapped[0];
    }
    return { ok: true, headers: out, path: p.value, used: [...used].sort() };
  }

  private async forwardPlain(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
      if (url.protocol !== 'http:') throw new Error('not http');
    } catch {
      this.refuse(res, {
        host: '',
        port: 0,
        method: req.method ?? '',
        code: 'bad_request',
        reason: 'a proxy request needs an absolute http:// URL',
      });
      return;
    }
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const port = url.port ? Number(url.port) : 80;
    await this.forward(req, res, { host, port, path: `${url.pathname}${url.search}`, tls: false });
  }

  private async forwardIntercepted(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = this.targets.get(req.socket as Socket);
    if (!target) return void res.destroy();
    const hostHeader = splitAuthority(req.headers.host ?? '', target.port);
    if (!hostHeader || hostHeader.host !== target.host) {
      this.refuse(res, {
        ...target,
        method: req.method ?? '',
        path: req.url,
        code: 'host_mismatch',
        reason: `Host header ${req.headers.host ?? '(none)'} does not match the tunnel to ${target.host}`,
      });
      return;
    }
    await this.forward(req, res, { ...target, path: req.url ?? '/' });
  }

  private async forward(
    req: IncomingMessage,
    res: ServerResponse,
    t: { host: string; port: number; path: string; tls: boolean },
  ): Promise<void> {
    const base = { host: t.host, port: t.port, method: req.method ?? 'GET', path: t.path };
    const verdict = this.policy.decide(t);
    if (!verdict.allowed) return this.refuse(res, { ...base, code: verdict.code, reason: verdict.reason });
    const injected = this.inject(req.headers, t.path, t.host, t.port);
    if (!injected.ok) {
      return this.refuse(res, {
        ...base,
        code: 'secret_not_allowed_for_host',
        reason: `the ${injected.secret} credential may not be sent to ${t.host}`,
      });
    }
    let address: { host: string; port: number };
    try {
      address = await this.resolve(t.host, t.port);
    } catch (e) {
      if (e instanceof EgressRefusal) return this.refuse(res, { ...base, code: e.code, reason: e.message });
      res.writeHead(502, { [DENY_REASON_HEADER]: `upstream: ${(e as Error).message}` }).end();
      return;
    }
    this.allow({ ...base, credentials: injected.used });
    const meter = this.opts.onMetered ? UsageMeter.for(base) : null;
    const options = {
      host: address.host,
      port: address.port,
      method: req.method,
      path: injected.path,
      headers: injected.headers,
      agent: false as const,
    };
    const upstream = t.tls
      ? httpsRequest({ ...options, servername: t.host, ca: this.upstreamCa() })
      : httpRequest(options);
    upstream.on('response', (up) => {
      const headers: OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
      res.writeHead(up.statusCode ?? 502, up.statusMessage, headers);
      up.pipe(res);
      if (meter) this.observe(meter, up);
    });
    upstream.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`upstream error: ${e.message}`);
      else res.destroy();
    });
    req.pipe(upstream);
    if (meter) req.on('data', meter.request);
  }

  /**
   * Reads a model call's usage from its response: each chunk reaches the meter after `pipe` wrote it to the client
   * (the pipe's listener was added first), so the client never waits on the parsing. A stream is metered at its last
   * event, in the same turn of the event loop that forwarded it: the harness cannot act on the answer (a tool call
   * the model asked for) before its cost has reached the policies, even when the response's end comes later.
   */
  private observe(meter: UsageMeter, up: IncomingMessage): void {
    if (!meter.response(up.statusCode ?? 0, up.headers)) return;
    let finished = false;
    const read = (chunk: Buffer): void => {
      meter.write(chunk);
      if (meter.complete) done();
    };
    const done = (): void => {
      if (finished) return;
      finished = true;
      up.off('data', read);
      void meter.end().then((call) => call && this.metered(call));
    };
    up.on('data', read);
    // `close` alone when the response was cut short: what it reported so far still counts.
    up.once('end', done);
    up.once('close', done);
  }

  private upstreamCa(): string[] | undefined {
    const extra = this.opts.upstreamCa;
    if (!extra) return undefined;
    return [...rootCertificates, ...(Array.isArray(extra) ? extra : [extra])];
  }

  private shouldIntercept(host: string, port: number): boolean {
    const mode = this.opts.interceptTls ?? 'secrets';
    if (!this.opts.ca || mode === 'never') return false;
    return mode === 'always' || this.vault.hasSecretsFor(host, port) || this.policy.needsPath(host, port);
  }

  private async onConnect(req: IncomingMessage, client: Socket, head: Buffer): Promise<void> {
    client.on('error', () => client.destroy());
    const target = splitAuthority(req.url ?? '', 443);
    const fail = (code: EgressDenyCode, reason: string, status = 403): void => {
      this.deny({ host: target?.host ?? '', port: target?.port ?? 0, method: 'CONNECT', code, reason });
      const headers = `${DENY_REASON_HEADER}: ${code}: ${reason.replace(/[\r\n]/g, ' ')}\r\nconnection: close\r\n`;
      client.end(`HTTP/1.1 ${status} Forbidden\r\n${headers}content-length: 0\r\n\r\n`);
    };
    if (!target) return fail('bad_request', `bad CONNECT target ${req.url ?? ''}`);
    const verdict = this.policy.decide(target);
    const intercept = this.shouldIntercept(target.host, target.port);
    // Path rules can only be decided inside the tunnel: let it open when some path of this host could be allowed.
    if (
      !verdict.allowed &&
      !(intercept && verdict.code === 'host_not_allowed' && this.policy.needsPath(target.host, target.port))
    ) {
      return fail(verdict.code, verdict.reason);
    }
    let address: { host: string; port: number } | null = null;
    let secureContext: SecureContext | null = null;
    try {
      if (intercept) secureContext = await this.contextFor(target.host);
      else address = await this.resolve(target.host, target.port);
    } catch (e) {
      if (e instanceof EgressRefusal) return fail(e.code, e.message);
      client.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    // What the client sends first decides: plain http (undici tunnels even http:// through CONNECT) is served here,
    // so its headers pass the rules and the placeholder swap; TLS is terminated when intercepting, else passed on.
    // A protocol where the server speaks first (ssh) sends nothing: after a short wait it becomes an opaque tunnel.
    const inside = (first: Buffer | null): void => {
      if (first) client.unshift(first);
      if (first && first[0] !== 0x16) {
        this.targets.set(client, { ...target, tls: false });
        this.intercepted.emit('connection', client);
        client.resume();
        return;
      }
      if (intercept) {
        const tlsSocket = new TLSSocket(client, {
          isServer: true,
          secureContext: secureContext!,
          ALPNProtocols: ['http/1.1'],
        });
        tlsSocket.on('error', () => tlsSocket.destroy());
        this.targets.set(tlsSocket, { ...target, tls: true });
        this.intercepted.emit('connection', tlsSocket);
        return;
      }
      this.allow({ host: target.host, port: target.port, method: 'CONNECT', credentials: [] });
      const upstream = connect(address!.port, address!.host, () => {
        upstream.pipe(client).pipe(upstream);
        client.resume();
      });
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
    };
    if (head.length) return inside(head);
    const timer = setTimeout(() => {
      client.removeListener('data', onFirst);
      client.pause();
      inside(null);
    }, SNIFF_WAIT_MS);
    const onFirst = (first: Buffer): void => {
      clearTimeout(timer);
      client.pause();
      inside(first);
    };
    client.once('data', onFirst);
    client.once('close', () => clearTimeout(timer));
    client.resume();
  }

  /** The leaf for an intercepted host, signed once per host (a failed signing is retried on the next tunnel). */
  private contextFor(host: string): Promise<SecureContext> {
    let ctx = this.contexts.get(host);
    if (!ctx) {
      ctx = this.opts.ca!.leafFor(host).then((leaf) => createSecureContext({ cert: leaf.cert, key: leaf.key }));
      this.contexts.set(host, ctx);
      ctx.catch(() => this.contexts.delete(host));
    }
    return ctx;
  }
}
