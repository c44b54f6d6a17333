import type { ServerResponse } from 'node:http';
import { writeItemsPage } from './items-page';

/** What a response was given: its headers and its body as the bytes a socket would carry. */
function recorded() {
  const headers = new Map<string, unknown>();
  const parts: Buffer[] = [];
  const res = {
    statusCode: 0,
    setHeader: (name: string, value: unknown) => headers.set(name.toLowerCase(), value),
    write: (chunk: string) => parts.push(Buffer.from(chunk)),
    end: (chunk: string) => parts.push(Buffer.from(chunk)),
  };
  return { res, headers, body: () => Buffer.concat(parts) };
}

describe('writeItemsPage', () => {
  it('writes the page as one JSON ItemsPage whose Content-Length is its length in bytes, multibyte text included', () => {
    const items = [
      { seq: 1, type: 'notice', text: 'plain' },
      { seq: 2, type: 'notice', text: 'é — 日本 🙂' },
      { seq: 3, type: 'agent_message', text: 'x'.repeat(1000) },
    ];
    const chunks = [JSON.stringify(items[0]), `${JSON.stringify(items[1])},${JSON.stringify(items[2])}`];
    const { res, headers, body } = recorded();
    writeItemsPage(res as unknown as ServerResponse, {
      chunks,
      bytes: Buffer.byteLength(chunks.join(',')),
      lastSeq: 7,
      hasMore: true,
    });
    expect(res.statusCode).toBe(200);
    expect(headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(headers.get('content-length')).toBe(body().length);
    expect(JSON.parse(body().toString('utf8'))).toEqual({ items, lastSeq: 7, hasMore: true });
  });

  it('writes an empty page', () => {
    const { res, headers, body } = recorded();
    writeItemsPage(res as unknown as ServerResponse, { chunks: [], bytes: 0, lastSeq: 0, hasMore: false });
    expect(headers.get('content-length')).toBe(body().length);
    expect(JSON.parse(body().toString('utf8'))).toEqual({ items: [], lastSeq: 0, hasMore: false });
  });
});
