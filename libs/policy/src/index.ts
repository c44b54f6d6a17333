export { PolicySpec, Matcher, POLICY_TYPES, type PolicyType } from './spec';
export type { PolicyEntry, PolicyAction, DecideContext, PolicyReason, Decision, PolicyLevel, Verdict } from './types';
export {
  compilePolicies,
  loadErrors,
  decide,
  effectiveEgress,
  sandboxNoneAllowed,
  traceContentAllowed,
  orgPriceTable,
  type CompiledPolicySet,
} from './engine';
export type { EffectiveEgress } from './egress';
export {
  initialState,
  applyUpdate,
  confirmUpdate,
  foldItem,
  rebuildState,
  isPerCallKey,
  grantUpdate,
  MAX_GRANTS,
  type PolicyState,
  type StateUpdate,
} from './state';
export { grantKey } from './grants';
export { parsePolicyYaml, formatPolicyIssues, type PolicyYamlResult } from './yaml';
export { analyzeShell, type ShellAnalysis } from './shell';
export { redactText } from './redact';
export { policyStack, policyEntries, policyOrigin, agentSource, type PolicyStackSource } from './stack';
