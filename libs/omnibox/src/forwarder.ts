/**
 * The network bridge's inside half. It listens on the sandbox's own loopback (`127.0.0.1:<port>`, which only exists
 * inside the sandbox's network namespace) and hands every accepted TCP connection to the runner over the Node IPC
 * channel the runner opened before the sandbox started (the socket itself travels, as SCM_RIGHTS). The runner's half
 * (in `sandbox.ts`) connects each handed socket to the egress proxy.
 *
 * Two ways in, the same listener (`BRIDGE_PRELOAD_SOURCE`):
 * - a node command that says it never waits synchronously on a networked child (`SandboxNetwork.hostBridge`: Yoke's
 *   own agent processes): the listener is preloaded into the command's own process (`NODE_OPTIONS=--require`), so
 *   the sandbox starts no second node process (~25–90 ms and ~40 MB each);
 * - any other command: `FORWARDER_SOURCE`, a node process that hosts the listener and runs the command as its child
 *   with the same stdio, and exits with its status.
 *
 * Why this shape: the seccomp filter denies new AF_UNIX sockets to every process inside, this one included, so the
 * bridge never opens one: the only Unix socket it uses is the IPC channel, a socketpair created outside and
 * inherited. Every process in the sandbox runs under the same filter and namespaces; the bridge has no power the
 * command lacks (anything it sends to the runner, the command could send through 127.0.0.1:<port> anyway).
 *
 * Plain JavaScript (strings written to files at run time) so they run the same from `src` under jest and from
 * `dist`, with nothing but node's built-ins.
 */
export const BRIDGE_PRELOAD_SOURCE = String.raw`'use strict';
(() => {
  // Read once, then gone: the command's own children (node ones load this file too) neither listen nor see them.
  const port = Number(process.env.YOKE_BRIDGE_PORT);
  delete process.env.YOKE_BRIDGE_PORT;
  const own = '--require ' + __filename;
  if (process.env.NODE_OPTIONS !== undefined) {
    process.env.NODE_OPTIONS = process.env.NODE_OPTIONS.replace(own, '').trim();
    if (process.env.NODE_OPTIONS === '') delete process.env.NODE_OPTIONS;
  }
  if (!port || typeof process.send !== 'function') return;
  const send = process.send.bind(process);
  const net = require('node:net');
  const server = net.createServer({ pauseOnConnect: true, noDelay: true }, (socket) => {
    send({ type: 'connection' }, socket, { keepOpen: false }, (err) => {
      if (err) socket.destroy();
    });
  });
  server.on('error', (err) => {
    process.stderr.write('yoke omnibox bridge: cannot listen on port ' + port + ': ' + err.message + '\n');
    process.exit(126);
  });
  // Bound here and now, before the command's first line runs (a host, even a literal one, would bind a tick later,
  // after a command that starts a child synchronously). The sandbox's network namespace has its loopback and nothing
  // else, so the unspecified address is the sandbox's own loopback.
  server.listen(port);
  // Neither the listener nor the channel keeps the command alive, and the command sees no channel to a parent.
  server.unref();
  process.channel.unref();
  delete process.send;
})();
`;

export const FORWARDER_SOURCE = String.raw`'use strict';
const { spawn } = require('node:child_process');

const [command, ...args] = process.argv.slice(2);
const fail = (message) => {
  process.stderr.write('yoke omnibox bridge: ' + message + '\n');
  process.exit(126);
};
if (!process.send) fail('no channel to the runner');
if (!command) fail('no command');
require('./bridge-preload.js');
const env = { ...process.env };
if (env.YOKE_CHILD_NODE_OPTIONS !== undefined) env.NODE_OPTIONS = env.YOKE_CHILD_NODE_OPTIONS;
for (const key of ['NODE_CHANNEL_FD', 'NODE_CHANNEL_SERIALIZATION_MODE', 'YOKE_CHILD_NODE_OPTIONS']) delete env[key];

// The listener is bound: the command may connect from its first line.
{
  const child = spawn(command, args, { stdio: 'inherit', env });
  const signals = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'];
  for (const signal of signals) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => fail('cannot run ' + command + ': ' + err.message));
  child.on('exit', (code, signal) => {
    if (signal) {
      for (const s of signals) process.removeAllListeners(s);
      process.kill(process.pid, signal);
    }
    process.exit(code === null ? 1 : code);
  });
}
`;
