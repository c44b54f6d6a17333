import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { execFileSync } from 'node:child_process';
import { type AddressInfo, connect as netConnect, createServer as createNetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, createSecureContext } from 'node:tls';
import {
  DENY_REASON_HEADER,
  type EgressAllowance,
  type EgressDenial,
  EgressProxy,
  type EgressProxyOptions,
} from './egress-proxy';
import { CertificateAuthority } from './tls-ca';

interface Seen {
  host: string;
  url: string;
  headers: IncomingHttpHeaders;
}

const listen = (server: Server): Promise<number> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

/** A plain request through the proxy's Unix socket, proxy-style (absolute URL). */
function viaProxy(
  socketPath: string,
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    // a fresh connection each time: a pooled keep-alive socket to a closed proxy would fail with EPIPE
    const req = request(
      { socketPath, path: url, agent: false, headers: { host: new URL(url).host, ...headers } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** CONNECT then https inside the tunnel, trusting `ca`. */
function viaTunnel(
  socketPath: string,
  host: string,
  path: string,
  ca: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const connectReq = request({ socketPath, method: 'CONNECT', path: `${host}:443` });
    connectReq.on('connect', (res, socket: Socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: '' });
        return;
      }
      const req = httpsRequest(
        {
          host,
          port: 443,
          defaultPort: 443,
          path,
          headers,
          createConnection: () => tlsConnect({ socket, servername: host, ca }),
        },
        (r) => {
          let body = '';
          r.on('data', (c: Buffer) => (body += c.toString()));
          r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body }));
        },
      );
      req.on('error', reject);
      req.end();
    });
    connectReq.on('error', reject);
    connectReq.end();
  });
}

describe('EgressProxy (local servers only)', () => {
  let upstreamCa: CertificateAuthority;
  let runnerCa: CertificateAuthority;
  const seen: Seen[] = [];
  let dir: string;
  let httpPort: number;
  let httpsPort: number;
  let plain: Server;
  let secure: Server;
  let proxy: EgressProxy;
  let denials: EgressDenial[];
  let proxyCount = 0;
  const socketPath = (): string => join(dir, `egress-${proxyCount}.sock`);
  const record = (req: { headers: IncomingHttpHeaders; url?: string }, res: { end: (s: string) => void }): void => {
    seen.push({ host: req.headers.host ?? '', url: req.url ?? '', headers: req.headers });
    res.end(`hello from ${req.headers.host}`);
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'yoke-egress-'));
    upstreamCa = await CertificateAuthority.create({ commonName: 'test upstream CA' });
    runnerCa = await CertificateAuthority.create();
    plain = createHttpServer(record);
    httpPort = await listen(plain);
    const leaf = await upstreamCa.leafFor('api.allowed.test');
    secure = createHttpsServer(
      {
        SNICallback: (name, cb) => {
          upstreamCa.leafFor(name).then(
            (l) => cb(null, createSecureContext({ cert: l.cert, key: l.key })),
            (e: Error) => cb(e),
          );
        },
        cert: leaf.cert,
        key: leaf.key,
      },
      record,
    );
    httpsPort = await listen(secure);
  });
  afterAll(async () => {
    plain.close();
    secure.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(extra: Partial<EgressProxyOptions> = {}): Promise<void> {
    proxyCount += 1;
    denials = [];
    seen.length = 0;
    proxy = new EgressProxy({
      allow: ['api.allowed.test', '*.open.test'],
      deny: ['bad.open.test'],
      secrets: [{ name: 'anthropic', value: 'sk-ant-REAL-KEY', hosts: ['api.allowed.test'] }],
      onDenied: (d) => denials.push(d),
      // every "host" is a local test server: no DNS, nothing leaves the machine
      resolve: async (_host, port) => ({ host: '127.0.0.1', port: port === 443 ? httpsPort : httpPort }),
      ca: runnerCa,
      upstreamCa: upstreamCa.certPem,
      ...extra,
    });
    await proxy.listen(socketPath());
  }
  afterEach(() => proxy.close());

  it('forwards plain http to an allowed host and injects the real key there', async () => {
    const allowed: EgressAllowance[] = [];
    await start({ onAllowed: (a) => allowed.push(a) });
    const key = proxy.placeholder('anthropic');
    const r = await viaProxy(socketPath(), 'http://api.allowed.test/v1/messages', { 'x-api-key': key });
    expect(r.status).toBe(200);
    expect(r.body).toBe('hello from api.allowed.test');
    expect(seen[0].headers['x-api-key']).toBe('sk-ant-REAL-KEY');
    expect(seen[0].url).toBe('/v1/messages');
    expect(denials).toEqual([]);
    // What was let through, and which credential went with it: by name, never the value.
    expect(allowed).toEqual([
      { host: 'api.allowed.test', port: 80, method: 'GET', path: '/v1/messages', credentials: ['anthropic'] },
    ]);
    expect(JSON.stringify(allowed)).not.toContain('sk-ant-REAL-KEY');
  });

  it('refuses a host not allowed with 403, a reason header and the callback', async () => {
    await start();
    const r = await viaProxy(socketPath(), 'http://elsewhere.test/x');
    expect(r.status).toBe(403);
    expect(r.headers[DENY_REASON_HEADER]).toMatch(/^host_not_allowed: /);
    expect(JSON.parse(r.body)).toMatchObject({ error: 'egress_denied', code: 'host_not_allowed' });
    expect(denials).toEqual([expect.objectContaining({ host: 'elsewhere.test', port: 80, code: 'host_not_allowed' })]);
    expect(seen).toEqual([]);
    const denied = await viaProxy(socketPath(), 'http://bad.open.test/');
    expect(denied.headers[DENY_REASON_HEADER]).toMatch(/^host_denied/);
  });

  it('refuses a placeholder sent to a host its secret is not approved for', async () => {
    await start();
    const r = await viaProxy(socketPath(), 'http://x.open.test/', {
      authorization: `Bearer ${proxy.placeholder('anthropic')}`,
    });
    expect(r.status).toBe(403);
    expect(r.headers[DENY_REASON_HEADER]).toMatch(/^secret_not_allowed_for_host/);
    expect(seen).toEqual([]);
    const inUrl = await viaProxy(socketPath(), `http://x.open.test/?key=${proxy.placeholder('anthropic')}`);
    expect(inUrl.status).toBe(403);
  });

  it('refuses loopback and private targets even when every host is allowed', async () => {
    await start({ allow: ['*'] });
    for (const url of ['http://127.0.0.1:22/', 'http://localhost/', 'http://169.254.169.254/latest/meta-data']) {
      const r = await viaProxy(socketPath(), url);
      expect([url, r.status, r.headers[DENY_REASON_HEADER]]).toEqual([
        url,
        403,
        expect.stringMatching(/^private_address/),
      ]);
    }
  });

  it('tunnels CONNECT to an allowed host without secrets (end-to-end TLS with the upstream cert)', async () => {
    await start();
    const r = await viaTunnel(socketPath(), 'www.open.test', '/page', upstreamCa.certPem);
    expect(r).toMatchObject({ status: 200, body: 'hello from www.open.test' });
  });

  it('refuses CONNECT to a host not allowed, with the reason header', async () => {
    await start();
    const r = await viaTunnel(socketPath(), 'exfil.test', '/', upstreamCa.certPem);
    expect(r.status).toBe(403);
    expect(r.headers[DENY_REASON_HEADER]).toMatch(/^host_not_allowed/);
    expect(denials).toEqual([expect.objectContaining({ host: 'exfil.test', port: 443, method: 'CONNECT' })]);
  });

  it('intercepts https to a host with a secret (runner CA) and injects the key; upstream TLS is verified', async () => {
    await start();
    const key = proxy.placeholder('anthropic');
    const r = await viaTunnel(socketPath(), 'api.allowed.test', '/v1/messages', runnerCa.certPem, {
      authorization: `Bearer ${key}`,
    });
    expect(r).toMatchObject({ status: 200, body: 'hello from api.allowed.test' });
    expect(seen[0].headers.authorization).toBe('Bearer sk-ant-REAL-KEY');
    // the client saw the runner CA's certificate, not the upstream's: trusting only the upstream CA fails
    await expect(viaTunnel(socketPath(), 'api.allowed.test', '/', upstreamCa.certPem)).rejects.toThrow();
  });

  it('refuses an intercepted request whose Host header points elsewhere', async () => {
    await start();
    const r = await viaTunnel(socketPath(), 'api.allowed.test', '/', runnerCa.certPem, { host: 'evil.test' });
    expect(r.status).toBe(403);
    expect(r.headers[DENY_REASON_HEADER]).toMatch(/^host_mismatch/);
  });

  it('decides path rules inside an intercepted tunnel', async () => {
    await start({ allow: ['api.allowed.test'], deny: ['api.allowed.test/admin/**'] });
    const ok = await viaTunnel(socketPath(), 'api.allowed.test', '/v1/x', runnerCa.certPem);
    expect(ok.status).toBe(200);
    const no = await viaTunnel(socketPath(), 'api.allowed.test', '/admin/users', runnerCa.certPem);
    expect(no.status).toBe(403);
    expect(no.headers[DENY_REASON_HEADER]).toMatch(/^path_denied/);
  });

  it('fails upstream TLS it cannot verify (502), never silently', async () => {
    await start({ upstreamCa: undefined });
    const r = await viaTunnel(socketPath(), 'api.allowed.test', '/', runnerCa.certPem);
    expect(r.status).toBe(502);
    expect(seen).toEqual([]);
  });
  it('serves plain http sent through a CONNECT tunnel (as undici does), injecting the key for the approved host', async () => {
    await start();
    const key = proxy.placeholder('anthropic');
    const viaPlainTunnel = (host: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const connectReq = request({ socketPath: socketPath(), method: 'CONNECT', path: `${host}:80`, agent: false });
        connectReq.on('connect', (res, socket: Socket) => {
          if (res.statusCode !== 200) return resolve(`HTTP ${res.statusCode}`);
          let text = '';
          socket.on('data', (c: Buffer) => (text += c.toString()));
          socket.on('end', () => resolve(text));
          socket.write(`GET /v1/models HTTP/1.1\r\nHost: ${host}\r\nx-api-key: ${key}\r\nconnection: close\r\n\r\n`);
        });
        connectReq.on('error', reject);
        connectReq.end();
      });
    const ok = await viaPlainTunnel('api.allowed.test');
    expect(ok).toMatch(/^HTTP\/1\.1 200/);
    expect(ok).toContain('hello from api.allowed.test');
    expect(seen[0].headers['x-api-key']).toBe('sk-ant-REAL-KEY');
    // the same placeholder through a tunnel to a host its secret is not approved for: refused, nothing sent
    seen.length = 0;
    const refused = await viaPlainTunnel('x.open.test');
    expect(refused).toMatch(/^HTTP\/1\.1 403/);
    expect(refused).toContain('secret_not_allowed_for_host');
    expect(seen).toEqual([]);
  });

  it("turns Nagle's algorithm off on a connection the sandbox bridge hands over, so a stream's small writes leave at once", async () => {
    await start();
    // A TCP connection accepted the way the bridge accepts one inside the sandbox (a plain net server: Nagle on).
    const acceptor = createNetServer();
    const accepted = new Promise<Socket>((resolve) => acceptor.once('connection', resolve));
    const port = await new Promise<number>((resolve) =>
      acceptor.listen(0, '127.0.0.1', () => resolve((acceptor.address() as AddressInfo).port)),
    );
    const client = netConnect(port, '127.0.0.1');
    const handed = await accepted;
    // TCP_NODELAY of the very socket, read by another process that gets its descriptor as fd 3 (node has no getter).
    const fd = (handed as unknown as { _handle: { fd: number } })._handle.fd;
    const noDelay = () =>
      execFileSync('python3', ['-c', NODELAY_OF_FD3], { stdio: ['ignore', 'pipe', 'inherit', fd] })
        .toString()
        .trim();
    expect(noDelay()).toBe('0');
    proxy.handleConnection(handed);
    expect(noDelay()).toBe('1');
    client.destroy();
    acceptor.close();
  });
});

const NODELAY_OF_FD3 =
  'import socket; s = socket.socket(fileno=3); print(1 if s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) else 0)';
