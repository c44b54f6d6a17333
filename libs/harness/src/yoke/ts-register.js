'use strict';
/**
 * Dev-only require hook: lets `node -r ./ts-register.js agent-process.ts` run the harness straight from its TypeScript
 * sources (jest runs the adapter from `src`, where no compiled agent-process.js exists). Compiles each `.ts` file with
 * @swc/core (a root devDependency) and maps the @yoke/* workspace packages to their sources, as jest.config.js does.
 * Never used from `dist`: there the adapter runs the compiled agent-process.js directly.
 */
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const { transformSync } = require('@swc/core');

const root = path.resolve(__dirname, '../../../..');
const aliases = {
  '@yoke/protocol': path.join(root, 'libs/protocol/src/index.ts'),
  '@yoke/harness': path.join(root, 'libs/harness/src/index.ts'),
};

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return resolveFilename.call(this, aliases[request] ?? request, ...rest);
};

Module._extensions['.ts'] = function (module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  module._compile(code, filename);
};
