import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ModelMessage } from './model';

const TranscriptFile = z.object({ version: z.literal(1), messages: z.array(ModelMessage) });

export const TRANSCRIPT_FILE = 'transcript.json';

export type LoadedTranscript = { messages: ModelMessage[]; warning?: string };

/** Reads `stateDir/transcript.json`. Missing = empty; unreadable = empty, the bad file kept aside, and a warning. */
export async function loadTranscript(stateDir: string): Promise<LoadedTranscript> {
  const file = join(stateDir, TRANSCRIPT_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { messages: [] };
    throw e;
  }
  let parsed: z.ZodSafeParseResult<z.infer<typeof TranscriptFile>>;
  try {
    parsed = TranscriptFile.safeParse(JSON.parse(text));
  } catch {
    parsed = TranscriptFile.safeParse(undefined);
  }
  if (parsed.success) return { messages: parsed.data.messages };
  const aside = `${file}.corrupt-${Date.now()}`;
  await rename(file, aside);
  return {
    messages: [],
    warning: `the saved conversation was unreadable and was set aside (${aside}); starting afresh`,
  };
}

/** Writes the transcript atomically (temp file + rename), so a crash never leaves half a file. */
export async function saveTranscript(stateDir: string, messages: ModelMessage[]): Promise<void> {
  await mkdir(stateDir, { recursive: true });
  const file = join(stateDir, TRANSCRIPT_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify({ version: 1, messages }));
  await rename(tmp, file);
}
