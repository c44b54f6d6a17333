export * from './bwrap';
export * from './check';
export * from './seccomp';
export * from './sandbox';
export { detectSystemLayout, ETC_ALLOWLIST, nodeInstall, protectedWorkspacePaths } from './host';
