// Lets a child `node -r ./test/support/register.js some.ts` load the server straight from TypeScript: this Node
// loads Nest 12 (ES modules) through require(esm), which Jest's module runtime cannot. Each required .ts file is
// compiled with @swc/core (decorators and their metadata, as in jest.config.js) to CommonJS, and `@yoke/*`
// resolves to the libraries' sources, as Jest's moduleNameMapper does. No type checking here (tsc covers test/).
'use strict';
const Module = require('node:module');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { transformSync } = require('@swc/core');

const ROOT = join(__dirname, '../..');
const SOURCES = {
  '@yoke/protocol': 'libs/protocol/src/index.ts',
  '@yoke/harness': 'libs/harness/src/index.ts',
  '@yoke/policy': 'libs/policy/src/index.ts',
  '@yoke/omnibox': 'libs/omnibox/src/index.ts',
  '@yoke/spec': 'libs/spec/src/index.ts',
  '@yoke/audit': 'libs/audit/src/index.ts',
};
const resolve = Module._resolveFilename;
Module._resolveFilename = function resolveYoke(request, ...rest) {
  if (Object.hasOwn(SOURCES, request)) return join(ROOT, SOURCES[request]);
  return resolve.call(this, request, ...rest);
};

require.extensions['.ts'] = function compileTs(module, filename) {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    sourceMaps: 'inline',
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
