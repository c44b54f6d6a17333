import { parsePolicyYaml } from './yaml';
import { traceContentAllowed } from './engine';
import type { PolicyEntry } from './types';

const entry = (level: PolicyEntry['level'], spec: Record<string, unknown>): PolicyEntry =>
  ({ level, origin: `${level}#1`, spec }) as PolicyEntry;

describe('the telemetry policy', () => {
  it('lets traces carry content only when the org says so', () => {
    expect(traceContentAllowed([])).toBe(false);
    expect(traceContentAllowed([entry('org', { type: 'telemetry', content: true })])).toBe(true);
    expect(traceContentAllowed([entry('org', { type: 'telemetry', content: false })])).toBe(false);
  });

  it('is read at org level only: an agent or a session cannot widen what traces carry', () => {
    expect(traceContentAllowed([entry('agent', { type: 'telemetry', content: true })])).toBe(false);
    expect(traceContentAllowed([entry('session', { type: 'telemetry', content: true })])).toBe(false);
  });

  it('is a known policy type with a strict shape', () => {
    expect(parsePolicyYaml('- { type: telemetry, content: true }\n', 'org.yaml')).toMatchObject({ ok: true });
    expect(parsePolicyYaml('- { type: telemetry, content: yes-please }\n', 'org.yaml')).toMatchObject({ ok: false });
    expect(parsePolicyYaml('- { type: telemetry, content: true, prompts: all }\n', 'org.yaml')).toMatchObject({
      ok: false,
    });
  });
});
