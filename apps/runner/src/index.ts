export { Runner, providerFromEnv, type RunnerOptions } from './runner';
export { enrol, loadIdentity, identityPath, EnrolError, rotateCredential, type RunnerIdentityFile } from './identity';
export { Outbox } from './outbox';
