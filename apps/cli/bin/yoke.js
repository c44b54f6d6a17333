#!/usr/bin/env node
// `yoke` in a checkout. npm links this file as the `yoke` bin at `npm ci`, before anything is built: run from a fresh
// clone, it builds what the command needs once (`npm run build`, and the web UI for `yoke start`), then runs the
// compiled CLI. Plain JavaScript with no dependencies, so it works before the build it asks for.
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

/** The root package.json's `engines`: the releases that load ES modules with require(), as NestJS 12 needs. */
function checkNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major >= 24 || (major === 22 && minor >= 13) || (major === 20 && minor >= 19)) return;
  process.stderr.write(`yoke: needs Node.js 20.19+, 22.13+ or 24+; this is ${process.version}\n`);
  process.exit(1);
}

const root = join(__dirname, '..', '..', '..');
const cliMain = join(__dirname, '..', 'dist', 'main.js');

/** Runs `npm run <script>` at the checkout's root, its output on stderr (stdout stays the command's, e.g. --json). */
function npmRun(script, why) {
  process.stderr.write(`yoke: ${why}: running \`npm run ${script}\` once in ${root}\n`);
  const npm = process.env.npm_execpath;
  const [command, args] = npm && /\.[cm]?js$/.test(npm) ? [process.execPath, [npm]] : ['npm', []];
  const r = spawnSync(command, [...args, 'run', script], {
    cwd: root,
    stdio: ['ignore', process.stderr, process.stderr],
    shell: process.platform === 'win32',
  });
  if (r.status === 0) return;
  process.stderr.write(`yoke: \`npm run ${script}\` failed${r.error ? `: ${r.error.message}` : ''}\n`);
  process.exit(r.status || 1);
}

checkNode();
if (!existsSync(cliMain)) npmRun('build', 'Yoke is not built in this checkout yet');
if (process.argv[2] === 'start' && !existsSync(join(root, 'apps', 'web', 'out', 'index.html'))) {
  npmRun('build:web', 'the web UI is not built yet');
}
require(cliMain);
