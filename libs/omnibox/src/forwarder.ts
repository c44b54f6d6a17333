/**
 * The network bridge's inside half: the first process in a networked sandbox. It listens on the sandbox's own
 * loopback (`127.0.0.1:<port>`, which only exists inside the sandbox's network namespace), hands every accepted
 * TCP connection to the runner over the Node IPC channel the runner opened before the sandbox started (the socket
 * itself travels, as SCM_RIGHTS), then runs the real command as its child with the same stdio, and exits with its
 * status.
 *
 * Why this shape: the seccomp filter denies new AF_UNIX sockets to every process inside, this one included, so the
 * bridge never opens one: the only Unix socket it uses is the IPC channel, a socketpair created outside and
 * inherited. The runner's half (in `sandbox.ts`) connects each handed socket to the egress proxy. Every process in
 * the sandbox runs under the same filter and namespaces; the bridge has no power the command lacks (anything it
 * sends to the runner, the command could send through 127.0.0.1:<port> anyway).
 *
 * Plain JavaScript (a string written to a file at run time) so it runs the same from `src` under jest and from
 * `dist`, with nothing but node's built-ins.
 */
export const FORWARDER_SOURCE = String.raw`'use strict';
const net = require('node:net');
const { spawn } = require('node:child_process');

const port = Number(process.env.YOKE_BRIDGE_PORT);
const [command, ...args] = process.argv.slice(2);
const env = { ...process.env };
if (env.YOKE_CHILD_NODE_OPTIONS !== undefined) env.NODE_OPTIONS = env.YOKE_CHILD_NODE_OPTIONS;
for (const key of ['NODE_CHANNEL_FD', 'NODE_CHANNEL_SERIALIZATION_MODE', 'YOKE_BRIDGE_PORT', 'YOKE_CHILD_NODE_OPTIONS']) {
  delete env[key];
}
const fail = (message) => {
  process.stderr.write('yoke omnibox bridge: ' + message + '\n');
  process.exit(126);
};
if (!process.send) fail('no channel to the runner');
if (!command) fail('no command');

const server = net.createServer({ pauseOnConnect: true, noDelay: true }, (socket) => {
  process.send({ type: 'connection' }, socket, { keepOpen: false }, (err) => {
    if (err) socket.destroy();
  });
});
server.on('error', (err) => fail('cannot listen on 127.0.0.1:' + port + ': ' + err.message));
server.listen(port, '127.0.0.1', () => {
  const child = spawn(command, args, { stdio: 'inherit', env });
  const signals = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'];
  for (const signal of signals) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => fail('cannot run ' + command + ': ' + err.message));
  child.on('exit', (code, signal) => {
    server.close();
    if (signal) {
      for (const s of signals) process.removeAllListeners(s);
      process.kill(process.pid, signal);
    }
    process.exit(code === null ? 1 : code);
  });
});
`;
