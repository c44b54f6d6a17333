// Module boundaries (HOUSE-STYLE rule 6), checked by `npm run lint` and by test/architecture.spec.ts.
'use strict';
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const TEST_FILE = '\\.(spec|int-spec|e2e-spec)\\.tsx?$';

// Paths here and in the rules are relative to the directory cruised from: the repository root.
const readJson = (file) => JSON.parse(readFileSync(join(process.cwd(), file), 'utf8'));
const workspaces = readJson('package.json').workspaces.map((dir) => ({
  dir,
  manifest: readJson(`${dir}/package.json`),
}));

/**
 * `@yoke/*` imports resolve to the workspaces' sources through tsconfig paths, so dependency-cruiser sees them as
 * aliases, not as npm packages it would check against a package.json. One rule per workspace forbids the workspaces
 * its own package.json does not list.
 */
function undeclaredWorkspaceRules() {
  return workspaces.flatMap(({ dir, manifest }) => {
    const declared = new Set(
      Object.keys({ ...manifest.dependencies, ...manifest.devDependencies, ...manifest.peerDependencies }),
    );
    const undeclared = workspaces.filter((w) => w.dir !== dir && !declared.has(w.manifest.name)).map((w) => w.dir);
    if (undeclared.length === 0) return [];
    return {
      name: 'no-undeclared-workspace-dependency',
      severity: 'error',
      comment: `${manifest.name} imports a workspace its package.json (${dir}/package.json) does not list.`,
      from: { path: `^${dir}/` },
      to: { path: `^(${undeclared.join('|')})/` },
    };
  });
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'No import cycles, type-only imports included: a type shared by two modules that import each other moves ' +
        'to its own file (apps/runner/src/approval.ts).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-app-to-app',
      severity: 'error',
      comment: 'Apps talk over the protocol (libs/protocol), never by importing each other.',
      from: { path: '^apps/([^/]+)/', pathNot: '^apps/cli/' },
      to: { path: '^apps/', pathNot: '^apps/$1/' },
    },
    {
      name: 'no-app-to-app',
      severity: 'error',
      comment:
        'The one exception: the cli embeds the runner (@yoke/runner). It runs the server as a child process, ' +
        'resolved by path, and never imports it.',
      from: { path: '^apps/cli/' },
      to: { path: '^apps/', pathNot: '^apps/(cli|runner)/' },
    },
    {
      name: 'no-lib-to-app',
      severity: 'error',
      comment: 'Libraries sit under the apps and never import them.',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'no-server-to-harness',
      severity: 'error',
      comment:
        'Only runners run harnesses: the server reads agent specs with @yoke/spec and never loads a harness or ' +
        'the vendor CLIs and SDKs behind it.',
      from: { path: '^apps/server/' },
      to: { path: ['^libs/harness/', '^node_modules/@yoke/harness/'] },
    },
    ...undeclaredWorkspaceRules(),
    {
      name: 'no-non-package-json',
      severity: 'error',
      comment:
        "An npm package that is not in the importing workspace's package.json (nor the root's): it only resolves " +
        'because another workspace hoisted it.',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'not-to-dev-dep',
      severity: 'error',
      comment:
        'Shipped code imports only what its package.json lists as dependencies, not devDependencies (the ' +
        "root's are test and build tools). Type-only imports are erased at compile time (`import type { Request } " +
        "from 'express'` reads @types/express). The harness's ts-register.js is a dev-only require hook (swc).",
      from: { path: '^(apps|libs)/[^/]+/src/', pathNot: [TEST_FILE, '^libs/harness/src/yoke/ts-register\\.js$'] },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['npm', 'type-only'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to no file.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    // Build output is not cruised; npm packages are dependencies to check but are not followed (lint stays fast).
    exclude: { path: '^(apps|libs)/[^/]+/(dist|out|coverage|\\.next)/|^apps/server/src/generated/' },
    doNotFollow: { path: '(^|/)node_modules/' },
    moduleSystems: ['cjs', 'es6'],
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.depcruise.json' },
    // A module's npm imports are checked against its workspace's package.json and the root's (test and build tools).
    combinedDependencies: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
  },
};
