import { withAcpAgents } from '../fixtures/acp-agents-path';
import { startFakeModel, type FakeModel } from '../fixtures/fake-model';
import { drift, matrixHarnesses, probeHarness } from '../../libs/harness/test/matrix';

/**
 * The capability matrix: every registered harness, driven for real (CLI or SDK) against the fake model, must behave
 * as its adapter declares, in both directions (a capability declared but not seen, or seen but not declared, fails).
 * `npm run harness:matrix` runs the same probes and writes docs/harness-matrix.md.
 */
jest.setTimeout(15 * 60_000);

describe('harness capability matrix (real CLIs and SDKs against the fake model)', () => {
  let fake: FakeModel;
  const path = process.env.PATH;
  beforeAll(async () => {
    process.env.PATH = withAcpAgents(path); // the real ACP agents, as a user has them installed
    fake = await startFakeModel();
  });
  afterAll(async () => {
    process.env.PATH = path;
    await fake.close();
  });

  it.each(matrixHarnesses().map((h) => [h.label, h] as const))('%s behaves as it declares', async (_label, target) => {
    const report = await probeHarness(fake, target);
    expect({ harness: target.label, drift: drift(report), errors: report.errors }).toEqual({
      harness: target.label,
      drift: [],
      errors: [],
    });
  });
});
