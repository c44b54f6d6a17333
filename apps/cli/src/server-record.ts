import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { isAlive } from './local-servers';
import { RecordedModelEnvSchema } from './model-keys';

/**
 * `<home>/server.json`: what a running `yoke start` tells the CLI of its home — the URL, the server's pid, and the
 * names (never the values) of the model variables in its environment, for `yoke doctor` and `yoke keys list`.
 */
const ServerRecordSchema = z.object({
  url: z.string(),
  pid: z.number().int().positive().optional(),
  modelEnv: RecordedModelEnvSchema.optional(),
});
export type ServerRecord = z.infer<typeof ServerRecordSchema>;

const SERVER_RECORD = 'server.json';

export function writeServerRecord(home: string, record: ServerRecord): void {
  writeFileSync(join(home, SERVER_RECORD), JSON.stringify(record));
}

/** The record of the `yoke start` running for `home`; null when there is none, or it was left by a killed start. */
export function readServerRecord(home: string): ServerRecord | null {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(join(home, SERVER_RECORD), 'utf8'));
  } catch {
    return null;
  }
  const parsed = ServerRecordSchema.safeParse(json);
  if (!parsed.success) return null;
  return parsed.data.pid === undefined || isAlive(parsed.data.pid) ? parsed.data : null;
}
