import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

/**
 * The module boundaries in `.dependency-cruiser.cjs`, run as `npm run lint` runs them. dependency-cruiser is an ES
 * module that Jest's CommonJS runtime cannot load, so the check runs as its command line with JSON output.
 */
const ROOT = join(__dirname, '..');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');
const DEPCRUISE = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');

interface Violation {
  rule: string;
  from: string;
  to: string;
}

async function cruise(cwd: string, paths: string[]): Promise<Violation[]> {
  const args = [DEPCRUISE, ...paths, '--config', CONFIG, '--output-type', 'json'];
  // depcruise exits with the number of errors it found; the JSON report is on stdout either way.
  const stdout = await promisify(execFile)(process.execPath, args, { cwd, maxBuffer: 256 * 1024 * 1024 }).then(
    (r) => r.stdout,
    (e: { stdout?: string }) => {
      if (!e.stdout) throw e;
      return e.stdout;
    },
  );
  const report = JSON.parse(stdout) as {
    summary: { violations: { rule: { name: string }; from: string; to: string }[] };
  };
  // An npm package is named by its name, wherever node_modules is.
  const npm = (path: string) => path.replace(/^.*node_modules\/((@[^/]+\/)?[^/]+)\/.*$/, 'npm:$1');
  return report.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: npm(v.to) }));
}

const WORKSPACES: Record<string, { name: string; dependencies: string[] }> = {
  'libs/protocol': { name: '@yoke/protocol', dependencies: [] },
  'libs/spec': { name: '@yoke/spec', dependencies: ['@yoke/protocol', 'yaml'] },
  'libs/harness': { name: '@yoke/harness', dependencies: ['@yoke/protocol'] },
  'apps/server': { name: '@yoke/server', dependencies: ['@yoke/protocol', '@yoke/spec'] },
  'apps/runner': { name: '@yoke/runner', dependencies: ['@yoke/protocol', '@yoke/harness'] },
  'apps/cli': { name: '@yoke/cli', dependencies: ['@yoke/protocol', '@yoke/runner', '@yoke/server'] },
  'apps/web': { name: '@yoke/web', dependencies: ['@yoke/protocol'] },
};

/** A small monorepo laid out like this one: every workspace has an index; the other files are the imports tried. */
const FILES: Record<string, string> = {
  'libs/protocol/src/index.ts': 'export const PROTOCOL_VERSION = 1;\n',
  'libs/spec/src/index.ts': "export { PROTOCOL_VERSION } from '@yoke/protocol';\n",
  'libs/harness/src/index.ts': "export { PROTOCOL_VERSION } from '@yoke/protocol';\n",
  'apps/server/src/index.ts': "export { PROTOCOL_VERSION } from '@yoke/spec';\n",
  'apps/runner/src/index.ts': "export { PROTOCOL_VERSION } from '@yoke/harness';\n",
  'apps/cli/src/index.ts': "export { PROTOCOL_VERSION } from '@yoke/runner';\n",
  'apps/web/src/index.ts': "export { PROTOCOL_VERSION } from '@yoke/protocol';\n",
  // The deliberate mistakes; the test below lists the rules each one breaks.
  'libs/spec/src/reads-server.ts': "export { PROTOCOL_VERSION } from '../../../apps/server/src/index';\n",
  'apps/server/src/runs-harness.ts': "export { PROTOCOL_VERSION } from '@yoke/harness';\n",
  'apps/web/src/reads-runner.ts': "export { PROTOCOL_VERSION } from '../../runner/src/index';\n",
  'apps/cli/src/imports-server.ts': "export { PROTOCOL_VERSION } from '@yoke/server';\n",
  'libs/harness/src/undeclared.ts': "export { PROTOCOL_VERSION } from '@yoke/spec';\n",
  'apps/runner/src/a.ts': "import type { B } from './b';\nexport type A = { b?: B };\n",
  'apps/runner/src/b.ts': "import type { A } from './a';\nexport type B = { a?: A };\n",
  'apps/runner/src/missing.ts': "export * from './nowhere';\n",
  // yaml resolves (hoisted for libs/spec), but libs/harness does not list it.
  'libs/spec/src/reads-yaml.ts': "export { parse } from 'yaml';\n",
  'libs/harness/src/hoisted.ts': "export { parse } from 'yaml';\n",
};

async function writeFixture(dir: string): Promise<void> {
  const files: Record<string, string> = {
    ...FILES,
    'package.json': JSON.stringify({ private: true, workspaces: Object.keys(WORKSPACES) }),
    'tsconfig.depcruise.json': JSON.stringify({
      compilerOptions: {
        baseUrl: '.',
        paths: Object.fromEntries(Object.entries(WORKSPACES).map(([dir, w]) => [w.name, [`${dir}/src`]])),
      },
    }),
  };
  for (const [dir, w] of Object.entries(WORKSPACES)) {
    const dependencies = Object.fromEntries(w.dependencies.map((d) => [d, '0.1.0']));
    files[`${dir}/package.json`] = JSON.stringify({ name: w.name, version: '0.1.0', dependencies });
  }
  for (const [file, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, file)), { recursive: true });
    await writeFile(join(dir, file), text);
  }
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
}

describe('module boundaries (.dependency-cruiser.cjs)', () => {
  let fixture: string;
  beforeAll(async () => {
    fixture = await mkdtemp(join(tmpdir(), 'yoke-boundaries-'));
    await writeFixture(fixture);
  });
  afterAll(() => rm(fixture, { recursive: true, force: true }));

  it('names the rule each bad import breaks, and nothing else', async () => {
    const violations = await cruise(fixture, ['apps', 'libs']);
    expect(violations.map((v) => `${v.rule}: ${v.from} -> ${v.to}`).sort()).toEqual(
      [
        'no-lib-to-app: libs/spec/src/reads-server.ts -> apps/server/src/index.ts',
        // libs/spec does not list @yoke/server either.
        'no-undeclared-workspace-dependency: libs/spec/src/reads-server.ts -> apps/server/src/index.ts',
        'no-server-to-harness: apps/server/src/runs-harness.ts -> libs/harness/src/index.ts',
        'no-undeclared-workspace-dependency: apps/server/src/runs-harness.ts -> libs/harness/src/index.ts',
        'no-app-to-app: apps/web/src/reads-runner.ts -> apps/runner/src/index.ts',
        'no-undeclared-workspace-dependency: apps/web/src/reads-runner.ts -> apps/runner/src/index.ts',
        // Declared (the cli runs the server's entry by path), but never imported.
        'no-app-to-app: apps/cli/src/imports-server.ts -> apps/server/src/index.ts',
        'no-undeclared-workspace-dependency: libs/harness/src/undeclared.ts -> libs/spec/src/index.ts',
        // A cycle is reported once, type-only imports included.
        'no-circular: apps/runner/src/a.ts -> apps/runner/src/b.ts',
        'not-to-unresolvable: apps/runner/src/missing.ts -> ./nowhere',
        'no-non-package-json: libs/harness/src/hoisted.ts -> npm:yaml',
      ].sort(),
    );
  }, 60_000);

  it('passes on this repository', async () => {
    expect(await cruise(ROOT, ['apps', 'libs'])).toEqual([]);
  }, 120_000);
});
