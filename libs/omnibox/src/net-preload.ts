/**
 * Preloaded (`NODE_OPTIONS=--require`) into every node process of a networked sandbox: node's built-in `fetch`
 * ignores HTTP(S)_PROXY, so this points its global dispatcher at the bridge through undici's EnvHttpProxyAgent
 * (which honours HTTP_PROXY, HTTPS_PROXY and NO_PROXY). node's `http`/`https` modules need no help: inside the
 * sandbox there is no other route out, so a client that ignores the proxy simply cannot connect.
 *
 * `UNDICI` is replaced by the absolute path of the undici package, which the sandbox binds read-only.
 */
export const NET_PRELOAD_SOURCE = String.raw`'use strict';
try {
  const { EnvHttpProxyAgent, setGlobalDispatcher } = require(__UNDICI__);
  setGlobalDispatcher(new EnvHttpProxyAgent());
} catch (err) {
  process.stderr.write('yoke omnibox: fetch will not use the egress proxy: ' + (err && err.message) + '\n');
}
`;

/** The preload script's text for an undici install at `undiciDir`. */
export function netPreloadSource(undiciDir: string): string {
  return NET_PRELOAD_SOURCE.replace('__UNDICI__', JSON.stringify(undiciDir));
}
