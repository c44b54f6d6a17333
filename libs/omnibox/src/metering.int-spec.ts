import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { gzipSync } from 'node:zlib';
import { expectEventually } from '../../../test/support/env';
import { type FakeModel, startFakeModel } from '../../../test/fixtures/fake-model';
import { EgressProxy } from './egress-proxy';
import type { MeteredCall } from './metering';
import { CertificateAuthority } from './tls-ca';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A POST through the proxy's Unix socket, proxy-style (absolute URL), the whole answer kept as bytes. */
function post(socketPath: string, url: string, body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const raw = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        path: url,
        method: 'POST',
        agent: false,
        headers: {
          host: new URL(url).host,
          'content-type': 'application/json',
          'content-length': raw.length,
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
      },
    );
    req.on('error', reject);
    req.end(raw);
  });
}

/** CONNECT, then a POST over TLS inside the tunnel, trusting `ca` (the runner CA the proxy signs its leaves with). */
function postTunnelled(socketPath: string, host: string, path: string, body: unknown, ca: string): Promise<Reply> {
  const raw = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const connectReq = request({ socketPath, method: 'CONNECT', path: `${host}:443` });
    connectReq.on('connect', (_res, socket: Socket) => {
      const req = httpsRequest(
        {
          host,
          port: 443,
          path,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': raw.length },
          createConnection: () => tlsConnect({ socket, servername: host, ca }),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
          );
        },
      );
      req.on('error', reject);
      req.end(raw);
    });
    connectReq.on('error', reject);
    connectReq.end();
  });
}

const listen = (server: Server): Promise<number> =>
  new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));

/** The fake model's ids and timestamps are fresh per answer: the rest of the bytes must match. */
const stable = (body: Buffer): string =>
  body
    .toString('utf8')
    .replace(/(msg_|resp_|chatcmpl-|toolu_|call_|fc_)[0-9a-f]{24}/g, '$1ID')
    .replace(/"(created|created_at)":\d+/g, '"$1":0');

const anthropicRequest = (prompt: string, stream: boolean) => ({
  model: 'claude-sonnet-4-5',
  max_tokens: 1024,
  stream,
  messages: [{ role: 'user', content: prompt }],
});

describe('EgressProxy metering (fake model upstream)', () => {
  let dir: string;
  let fake: FakeModel;
  let fakePort: number;
  /** An upstream answering fixed bytes (a non-streamed or compressed body the fake model does not send). */
  let fixed: Server;
  let fixedPort: number;
  let fixedReply: { status: number; headers: Record<string, string>; chunks: Buffer[]; endAfter?: Promise<void> };
  let proxies: EgressProxy[] = [];
  let metered: MeteredCall[];
  let count = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'yoke-metering-'));
    fake = await startFakeModel();
    fakePort = Number(new URL(fake.url).port);
    fixed = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(fixedReply.status, fixedReply.headers);
        const chunks = [...fixedReply.chunks];
        const next = (): void => {
          const c = chunks.shift();
          if (!c) return void (fixedReply.endAfter ?? Promise.resolve()).then(() => res.end());
          res.write(c);
          setImmediate(next);
        };
        next();
      });
    });
    fixedPort = await listen(fixed);
  });
  afterAll(async () => {
    await fake.close();
    fixed.close();
    rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    proxies = [];
  });

  /** A proxy whose model hosts all lead to local upstreams; with `meter`, every metered call lands in `metered`. */
  async function start(meter: boolean): Promise<string> {
    count += 1;
    metered = [];
    const socketPath = join(dir, `egress-${count}.sock`);
    const proxy = new EgressProxy({
      allow: ['api.anthropic.com', 'api.openai.com', 'llm.compat.test', 'fixed.test'],
      resolve: async (host) => ({ host: '127.0.0.1', port: host === 'fixed.test' ? fixedPort : fakePort }),
      ...(meter ? { onMetered: (call: MeteredCall) => metered.push(call) } : {}),
    });
    await proxy.listen(socketPath);
    proxies.push(proxy);
    return socketPath;
  }

  /** The next metered call, once it was reported (at the response's end, just after the client got it). */
  const meteredCall = (n = 1): Promise<MeteredCall> => expectEventually(() => metered.at(n - 1));

  it('Anthropic Messages, streamed: the usage the model reported, cache reads apart', async () => {
    fake.script([
      {
        match: 'stream please',
        steps: [{ text: 'Hi there, ça va ?', usage: { inputTokens: 1500, outputTokens: 42, cachedTokens: 1200 } }],
      },
    ]);
    const socket = await start(true);
    const r = await post(socket, 'http://api.anthropic.com/v1/messages', anthropicRequest('stream please', true));
    expect(r.status).toBe(200);
    expect(await meteredCall()).toEqual({
      host: 'api.anthropic.com',
      port: 80,
      method: 'POST',
      path: '/v1/messages',
      status: 200,
      provider: 'anthropic',
      api: 'messages',
      model: 'claude-sonnet-4-5',
      requestId: expect.stringMatching(/^msg_/),
      streamed: true,
      inputTokens: 300,
      outputTokens: 42,
      cacheReadTokens: 1200,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
    });
    expect(r.body.toString()).toContain(`"id":"${metered[0].requestId}"`);
  });

  it('a stream is metered at its last event, before the response ends (a harness acts on the answer at once)', async () => {
    let release = (): void => undefined;
    const event = (type: string, body: object) =>
      Buffer.from(`event: ${type}\ndata: ${JSON.stringify({ type, ...body })}\n\n`);
    fixedReply = {
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      chunks: [
        event('message_start', {
          message: { id: 'msg_held', model: 'claude-sonnet-4-5', usage: { input_tokens: 10 } },
        }),
        event('message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 7 } }),
        event('message_stop', {}),
      ],
      endAfter: new Promise<void>((r) => (release = r)),
    };
    const socket = await start(true);
    const body = Buffer.from(JSON.stringify(anthropicRequest('held', true)));
    const received: Buffer[] = [];
    let ended = false;
    const req = request(
      {
        socketPath: socket,
        method: 'POST',
        path: 'http://fixed.test/v1/messages',
        headers: { host: 'fixed.test', 'content-type': 'application/json', 'content-length': body.length },
      },
      (res) => {
        res.on('data', (c: Buffer) => received.push(c));
        res.on('end', () => (ended = true));
      },
    );
    req.end(body);
    await expectEventually(() => Buffer.concat(received).toString().includes('message_stop'));
    // The client has the whole answer; the upstream has not ended its response: the call is already metered.
    const call = await expectEventually(() => metered[0], 5_000);
    expect(ended).toBe(false);
    expect(call).toMatchObject({ host: 'fixed.test', requestId: 'msg_held', inputTokens: 10, outputTokens: 7 });
    release();
    await expectEventually(() => ended);
    expect(metered).toHaveLength(1);
  });

  it('OpenAI Responses, streamed', async () => {
    fake.script([
      {
        match: 'responses',
        steps: [{ text: 'done', usage: { inputTokens: 900, outputTokens: 77, cachedTokens: 512 } }],
      },
    ]);
    const socket = await start(true);
    const r = await post(socket, 'http://api.openai.com/v1/responses', {
      model: 'gpt-5.1-codex',
      stream: true,
      input: [{ role: 'user', content: [{ type: 'input_text', text: 'responses please' }] }],
    });
    expect(r.status).toBe(200);
    expect(await meteredCall()).toEqual(
      expect.objectContaining({
        host: 'api.openai.com',
        provider: 'openai',
        api: 'responses',
        model: 'gpt-5.1-codex',
        requestId: expect.stringMatching(/^resp_/),
        streamed: true,
        inputTokens: 388,
        outputTokens: 77,
        cacheReadTokens: 512,
        cacheWriteTokens: 0,
        reasoningTokens: 0,
      }),
    );
  });

  it('Chat Completions, streamed with include_usage, on an OpenAI-compatible host', async () => {
    fake.script([
      {
        match: 'chat',
        steps: [{ text: 'chatty answer', usage: { inputTokens: 640, outputTokens: 21, cachedTokens: 128 } }],
      },
    ]);
    const socket = await start(true);
    const r = await post(socket, 'http://llm.compat.test/v1/chat/completions', {
      model: 'qwen3-coder',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'chat please' }],
    });
    expect(r.status).toBe(200);
    expect(await meteredCall()).toEqual(
      expect.objectContaining({
        host: 'llm.compat.test',
        path: '/v1/chat/completions',
        provider: 'openai_compatible',
        api: 'chat_completions',
        model: 'qwen3-coder',
        requestId: expect.stringMatching(/^chatcmpl-/),
        streamed: true,
        inputTokens: 512,
        outputTokens: 21,
        cacheReadTokens: 128,
        reasoningTokens: 0,
      }),
    );
  });

  it('Anthropic Messages, not streamed and gzipped, with the provider request-id header', async () => {
    const message = {
      id: 'msg_fixed',
      type: 'message',
      role: 'assistant',
      model: 'claude-haiku-4-5',
      content: [{ type: 'text', text: 'short answer' }],
      stop_reason: 'end_turn',
      usage: { input_tokens: 18, cache_creation_input_tokens: 2048, cache_read_input_tokens: 0, output_tokens: 5 },
    };
    const gz = gzipSync(JSON.stringify(message));
    fixedReply = {
      status: 200,
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', 'request-id': 'req_011CFixed' },
      chunks: [gz.subarray(0, 7), gz.subarray(7, 20), gz.subarray(20)],
    };
    const socket = await start(true);
    const r = await post(socket, 'http://fixed.test/v1/messages', anthropicRequest('not streamed', false));
    expect(r.body.equals(gz)).toBe(true);
    expect(await meteredCall()).toEqual({
      host: 'fixed.test',
      port: 80,
      method: 'POST',
      path: '/v1/messages',
      status: 200,
      provider: 'anthropic',
      api: 'messages',
      model: 'claude-haiku-4-5',
      requestId: 'req_011CFixed',
      streamed: false,
      inputTokens: 18,
      outputTokens: 5,
      cacheReadTokens: 0,
      cacheWriteTokens: 2048,
      reasoningTokens: 0,
    });
  });

  it('meters nothing for token counting, errors or a stream without usage', async () => {
    fake.script([{ match: 'ok', steps: [{ text: 'fine', usage: { inputTokens: 10, outputTokens: 3 } }] }]);
    const socket = await start(true);
    const counted = await post(
      socket,
      'http://api.anthropic.com/v1/messages/count_tokens',
      anthropicRequest('ok', false),
    );
    expect(counted.status).toBe(200);
    const refused = await post(socket, 'http://api.anthropic.com/v1/messages', anthropicRequest('no rule', true));
    expect(refused.status).toBe(400);
    const noUsage = await post(socket, 'http://api.openai.com/v1/chat/completions', {
      model: 'gpt-4.1',
      stream: true,
      messages: [{ role: 'user', content: 'ok' }],
    });
    expect(noUsage.status).toBe(200);
    // a metered call after them: once it is in, the others would have been too
    await post(socket, 'http://api.anthropic.com/v1/messages', anthropicRequest('ok', true));
    await meteredCall();
    expect(metered).toEqual([expect.objectContaining({ api: 'messages', inputTokens: 10, outputTokens: 3 })]);
  });

  it('a throwing onMetered changes nothing for the client', async () => {
    fake.script([{ match: 'throw', steps: [{ text: 'still fine' }] }]);
    count += 1;
    const socketPath = join(dir, `egress-${count}.sock`);
    let calls = 0;
    const proxy = new EgressProxy({
      allow: ['api.anthropic.com'],
      resolve: async () => ({ host: '127.0.0.1', port: fakePort }),
      onMetered: () => {
        calls += 1;
        throw new Error('recorder down');
      },
    });
    proxies.push(proxy);
    await proxy.listen(socketPath);
    for (let i = 0; i < 2; i++) {
      const r = await post(socketPath, 'http://api.anthropic.com/v1/messages', anthropicRequest('throw', true));
      expect(r.status).toBe(200);
      expect(r.body.toString()).toContain('event: message_stop');
    }
    await expectEventually(() => calls === 2);
  });

  describe('the client gets the same bytes with and without metering', () => {
    it.each([
      ['Anthropic', 'http://api.anthropic.com/v1/messages', anthropicRequest('bytes', true)],
      ['Responses', 'http://api.openai.com/v1/responses', { model: 'gpt-5', stream: true, input: 'bytes' }],
      [
        'Chat Completions',
        'http://api.openai.com/v1/chat/completions',
        {
          model: 'gpt-4.1',
          stream: true,
          stream_options: { include_usage: true },
          messages: [{ role: 'user', content: 'bytes' }],
        },
      ],
    ])('%s, from the fake model', async (_name, url, body) => {
      fake.script([
        {
          match: 'bytes',
          steps: [{ text: 'the same bytes, élan 🙂', toolCalls: [{ name: 'read', input: { path: 'a' } }] }],
        },
      ]);
      const plain = await post(await start(false), url, body);
      const withMeter = await post(await start(true), url, body);
      expect(plain.status).toBe(200);
      expect(stable(withMeter.body)).toBe(stable(plain.body));
      expect(withMeter.headers['content-type']).toBe(plain.headers['content-type']);
      await meteredCall();
    });

    it('byte for byte, a gzipped stream', async () => {
      const frames = [
        `event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { id: 'msg_b', model: 'claude-opus-4-1', usage: { input_tokens: 4, output_tokens: 1 } } })}\n\n`,
        `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'x'.repeat(50_000) } })}\n\n`,
        `event: message_delta\ndata: ${JSON.stringify({ type: 'message_delta', usage: { output_tokens: 12_000 } })}\n\n`,
      ].join('');
      const gz = gzipSync(frames);
      const chunks: Buffer[] = [];
      for (let i = 0; i < gz.length; i += 97) chunks.push(gz.subarray(i, i + 97));
      fixedReply = {
        status: 200,
        headers: { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' },
        chunks,
      };
      const plain = await post(await start(false), 'http://fixed.test/v1/messages', anthropicRequest('gz', true));
      const withMeter = await post(await start(true), 'http://fixed.test/v1/messages', anthropicRequest('gz', true));
      expect(plain.body.equals(gz)).toBe(true);
      expect(withMeter.body.equals(gz)).toBe(true);
      expect(await meteredCall()).toEqual(
        expect.objectContaining({ model: 'claude-opus-4-1', requestId: 'msg_b', inputTokens: 4, outputTokens: 12_000 }),
      );
    });
  });
});

describe('EgressProxy metering inside an intercepted TLS tunnel (as the runner runs it)', () => {
  it('meters an https model call and hands the client the upstream bytes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'yoke-metering-tls-'));
    const upstreamCa = await CertificateAuthority.create({ commonName: 'test upstream CA' });
    const runnerCa = await CertificateAuthority.create();
    const leaf = await upstreamCa.leafFor('api.anthropic.com');
    const frames = [
      `event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { id: 'msg_tls', model: 'claude-opus-4-1', usage: { input_tokens: 70, cache_read_input_tokens: 9000, output_tokens: 1 } } })}\n\n`,
      `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'over TLS' } })}\n\n`,
      `event: message_delta\ndata: ${JSON.stringify({ type: 'message_delta', usage: { output_tokens: 64 } })}\n\n`,
    ];
    const upstream = createHttpsServer({ cert: leaf.cert, key: leaf.key }, (req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'request-id': 'req_tls' });
        for (const f of frames) res.write(f);
        res.end();
      });
    });
    const port = await listen(upstream);
    const metered: MeteredCall[] = [];
    const proxy = new EgressProxy({
      allow: ['api.anthropic.com'],
      resolve: async () => ({ host: '127.0.0.1', port }),
      ca: runnerCa,
      upstreamCa: upstreamCa.certPem,
      interceptTls: 'always',
      onMetered: (call) => metered.push(call),
    });
    const socketPath = join(dir, 'egress.sock');
    await proxy.listen(socketPath);
    try {
      const r = await postTunnelled(
        socketPath,
        'api.anthropic.com',
        '/v1/messages?beta=true',
        anthropicRequest('tls', true),
        runnerCa.certPem,
      );
      expect(r.body.toString()).toBe(frames.join(''));
      expect(await expectEventually(() => metered.at(0))).toEqual({
        host: 'api.anthropic.com',
        port: 443,
        method: 'POST',
        path: '/v1/messages',
        status: 200,
        provider: 'anthropic',
        api: 'messages',
        model: 'claude-opus-4-1',
        requestId: 'req_tls',
        streamed: true,
        inputTokens: 70,
        outputTokens: 64,
        cacheReadTokens: 9000,
        cacheWriteTokens: 0,
        reasoningTokens: 0,
      });
    } finally {
      await proxy.close();
      upstream.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
