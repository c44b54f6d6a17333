import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { ExampleAgent } from '@yoke/protocol';
import { parseAgent, summarize } from './agent-validation';

/** Yoke's `examples/` folder, found from source or from dist; null where it is not shipped. */
export function examplesDir(): string | null {
  const candidates = [resolve(__dirname, '../../../../../examples'), resolve(process.cwd(), 'examples')];
  return candidates.find((d) => existsSync(join(d, 'helper.yaml'))) ?? null;
}

/** The example agents (`examples/*.yaml`) that pass the same checks as any agent, sorted by file name. */
export async function readExamples(dir: string | null): Promise<ExampleAgent[]> {
  if (!dir) return [];
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
  const examples: ExampleAgent[] = [];
  for (const file of files) {
    const yaml = await readFile(join(dir, file), 'utf8');
    try {
      examples.push({ file, yaml, ...summarize(parseAgent(yaml, file)) });
    } catch {
      // An example that does not validate is not offered.
    }
  }
  return examples;
}
