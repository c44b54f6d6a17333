import type { ServerResponse } from 'node:http';
/** An `ItemsPage` as JSON text: its items' JSON in pieces (`chunks.join(',')`, `bytes` long in UTF-8). */
export type ItemsPageJson = { chunks: string[]; bytes: number; lastSeq: number; hasMore: boolean };

/**
 * Writes an `ItemsPage` to a response piece by piece: a late joiner's page of megabytes is neither joined into one
 * string nor converted to one buffer (each piece goes to the socket as it is), and its length is known up front.
 */
export function writeItemsPage(res: ServerResponse, page: ItemsPageJson): void {
  const head = '{"items":[';
  const tail = `],"lastSeq":${page.lastSeq},"hasMore":${page.hasMore}}`;
  res.statusCode = 200;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', head.length + page.bytes + tail.length);
  res.write(head);
  page.chunks.forEach((chunk, i) => res.write(i === 0 ? chunk : `,${chunk}`));
  res.end(tail);
}
