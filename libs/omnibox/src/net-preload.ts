/**
 * Preloaded (`NODE_OPTIONS=--require`) into every node process of a networked sandbox: node's built-in `fetch`
 * ignores HTTP(S)_PROXY, so this points its global dispatcher at the bridge through undici's EnvHttpProxyAgent
 * (which honours HTTP_PROXY, HTTPS_PROXY and NO_PROXY). node's `http`/`https` modules need no help: inside the
 * sandbox there is no other route out, so a client that ignores the proxy simply cannot connect.
 *
 * Lazily: the dispatcher is made when node's fetch first asks for it (the global undici reads, by its well-known
 * symbol), not at start. Loading undici takes ~60 ms, which every node process in the sandbox paid before, fetch or
 * not (a harness's tools, a test runner the agent starts). `setGlobalDispatcher` still replaces it.
 *
 * `UNDICI` is replaced by the absolute path of the undici package, which the sandbox binds read-only.
 */
export const NET_PRELOAD_SOURCE = String.raw`'use strict';
(() => {
  // The symbol node's own undici reads its dispatcher from (undici 7 writes it too, for node's).
  const key = Symbol.for('undici.globalDispatcher.1');
  const install = () => {
    // Gone before undici loads: loading, it finds no dispatcher, sets its default, then the proxy agent replaces it.
    delete globalThis[key];
    try {
      const { EnvHttpProxyAgent, setGlobalDispatcher } = require(__UNDICI__);
      setGlobalDispatcher(new EnvHttpProxyAgent());
    } catch (err) {
      process.stderr.write('yoke omnibox: fetch will not use the egress proxy: ' + (err && err.message) + '\n');
    }
  };
  Object.defineProperty(globalThis, key, {
    configurable: true,
    enumerable: false,
    get() {
      install();
      return globalThis[key];
    },
    set(value) {
      delete globalThis[key];
      globalThis[key] = value;
    },
  });
})();
`;

/** The preload script's text for an undici install at `undiciDir`. */
export function netPreloadSource(undiciDir: string): string {
  return NET_PRELOAD_SOURCE.replace('__UNDICI__', JSON.stringify(undiciDir));
}
