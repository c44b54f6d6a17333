export * from './bwrap';
export * from './check';
export * from './seccomp';
export * from './sandbox';
export { detectSystemLayout, ETC_ALLOWLIST, nodeInstall, protectedWorkspacePaths } from './host';
export * from './egress-proxy';
export * from './egress-rules';
export * from './tls-ca';
export * from './seatbelt';
