export { CodexAdapter, codexConfig, resolveCodexCommand, type CodexAdapterOptions } from './adapter';
export { CliProcess, descendantsOf, withTimeout, type CliProcessOptions } from './cli-process';
export { codexCommandArgv, codexFileChangeKind, mcpToolKind, splitShellWords } from './tools';
