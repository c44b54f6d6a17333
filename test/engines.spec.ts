/**
 * `engines` is honest: every package the lockfile installs on this platform supports every Node version the root
 * package.json declares, or is listed below with the reason it may not. npm only warns (EBADENGINE) at install; this
 * fails instead, naming each package, what it needs and where it is installed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as semver from 'semver';

const ROOT = join(__dirname, '..');

interface LockPackage {
  version?: string;
  engines?: { node?: string } | string[];
  os?: string[];
  cpu?: string[];
  optional?: boolean;
  link?: boolean;
}

const rootRange = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } })
  .engines.node;
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, LockPackage>;
};

/** npm's `os`/`cpu` rules: an entry may list names, or names negated with `!`. */
function fits(list: string[] | undefined, value: string): boolean {
  if (!list?.length) return true;
  if (list.includes(`!${value}`)) return false;
  const allowed = list.filter((x) => !x.startsWith('!'));
  return allowed.length === 0 || allowed.includes(value);
}

/**
 * Installed packages whose `engines` exclude part of the root range, each with why that is acceptable. Keyed by exact
 * version: an upgrade is judged again.
 */
const ACCEPTED: Record<string, string> = {
  'nestjs-pino@5.2.1':
    'every nestjs-pino that supports NestJS 12 declares node >=22.12.0 (and 4.x stops at NestJS 11); the bound is ' +
    "require(esm) of Nest's ES modules, which Node 20.19 has too, and the server suites run it on Node 20",
  '@prisma/streams-local@0.1.11':
    'loaded only by `prisma dev` (a local Prisma Postgres), which Yoke never runs; every prisma >= 7.6 depends on ' +
    'it, and prisma 7.5 instead brings a studio-core that excludes Node 25+',
};

/** Packages npm installs here: every entry but those for another platform (optional native binaries). */
const installed = Object.entries(lock.packages).filter(
  ([path, pkg]) => path !== '' && !pkg.link && fits(pkg.os, process.platform) && fits(pkg.cpu, process.arch),
);

describe('engines', () => {
  it('declares a valid Node range, which includes the Node running this test', () => {
    expect(semver.validRange(rootRange)).not.toBeNull();
    expect(semver.satisfies(process.versions.node, rootRange)).toBe(true);
  });

  it('fit the root range: every installed package supports every Node version it allows', () => {
    const misfits: string[] = [];
    for (const [path, pkg] of installed) {
      const node = Array.isArray(pkg.engines) ? undefined : pkg.engines?.node;
      if (!node) continue;
      if (!semver.validRange(node)) {
        misfits.push(`${path}@${pkg.version}: unreadable engines.node ${JSON.stringify(node)}`);
        continue;
      }
      const name = `${path.replace(/^(.*\/)?node_modules\//, '')}@${pkg.version}`;
      if (!semver.subset(rootRange, node) && !Object.hasOwn(ACCEPTED, name)) {
        misfits.push(`${name} needs node ${node} (${path})`);
      }
    }
    expect(misfits).toEqual([]);
  });

  it('accepts only exceptions that are still installed', () => {
    const present = new Set(
      installed.map(([path, pkg]) => `${path.replace(/^(.*\/)?node_modules\//, '')}@${pkg.version}`),
    );
    expect(Object.keys(ACCEPTED).filter((name) => !present.has(name))).toEqual([]);
  });
});
