// Lets `node -r ./bench/register.js bench/<name>.ts` run a bench straight from TypeScript: each .ts file that is
// required is compiled with @swc/core (already a devDependency, through @swc/jest), types stripped, to CommonJS.
// No type checking here; `npx tsc -p tsconfig.json` covers bench/ (its include lists it).
'use strict';
const { readFileSync } = require('node:fs');
const { transformSync } = require('@swc/core');

require.extensions['.ts'] = function compileTs(module, filename) {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    sourceMaps: 'inline',
    jsc: {
      // Decorators as the server compiles them (benches that boot Nest modules need their metadata for DI).
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
