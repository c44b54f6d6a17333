// The SDK's `/unstable` entry (ACP v1 plus per-turn token usage) is only reachable through package `exports`, which
// this repository's `node` module resolution does not read; this points the type checker at the same file.
declare module '@agentclientprotocol/sdk/unstable' {
  export * from '@agentclientprotocol/sdk/dist/v1/unstable/acp';
}
