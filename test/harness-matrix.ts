/**
 * `npm run harness:matrix`: probes every harness (real CLIs and SDKs against the local fake model, no network) and
 * writes docs/harness-matrix.md from what was observed. Exits 1 when an adapter's declaration drifted from what its
 * harness does (the doc is written anyway, with the drift marked).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withAcpAgents } from './fixtures/acp-agents-path';
import { startFakeModel } from './fixtures/fake-model';
import { drift, matrixHarnesses, probeHarness, renderMatrix, type HarnessReport } from '../libs/harness/test/matrix';

async function main(): Promise<number> {
  const only = process.argv.slice(2);
  process.env.PATH = withAcpAgents(); // the real ACP agents, as a user has them installed
  const fake = await startFakeModel();
  const reports: HarnessReport[] = [];
  try {
    for (const target of matrixHarnesses()) {
      if (only.length > 0 && !only.includes(target.label)) continue;
      const report = await probeHarness(fake, target, { log: (line) => process.stderr.write(`${line}\n`) });
      reports.push(report);
      const drifted = drift(report);
      process.stderr.write(`${target.label}: ${drifted.length === 0 ? 'as declared' : drifted.join('; ')}\n`);
    }
  } finally {
    await fake.close();
  }
  const out = join(__dirname, '..', 'docs', 'harness-matrix.md');
  writeFileSync(
    out,
    renderMatrix(reports, { generatedAt: new Date().toISOString().slice(0, 10), node: process.version }),
  );
  process.stderr.write(`wrote ${out}\n`);
  return reports.some((r) => drift(r).length > 0 || r.errors.length > 0) ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`harness:matrix failed: ${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
