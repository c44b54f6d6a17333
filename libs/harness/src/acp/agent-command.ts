import { accessSync, constants, realpathSync, statSync } from 'node:fs';
import { basename, delimiter, dirname, isAbsolute, join, sep } from 'node:path';
import { KNOWN_ACP_AGENTS, knownAcpAgent } from './agents';

export interface ResolvedAcpCommand {
  /** The command line with the program as its real absolute path (symlinks such as `node_modules/.bin/x` followed). */
  argv: string[];
  /** What the program needs to read, for a sandbox to bind read-only: its install root. */
  codePaths: string[];
}

/** Directories every sandbox has already (read-only system dirs): nothing to bind. */
const SYSTEM_ROOTS = ['/usr', '/bin', '/sbin', '/lib', '/lib64', '/etc'];

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The install root of a program: the `node_modules` directory holding its npm package (so the package's own
 * dependencies, nested or hoisted beside it, are all there), else the directory above a `bin/` (an install prefix
 * such as `~/.opencode`), else its own directory. Null for programs under system directories.
 */
export function installRoot(realPath: string): string | null {
  if (SYSTEM_ROOTS.some((root) => realPath === root || realPath.startsWith(`${root}${sep}`))) {
    return realPath.startsWith(`/usr${sep}local${sep}`) ? installRootBelow(realPath) : null;
  }
  return installRootBelow(realPath);
}

function installRootBelow(realPath: string): string {
  const marker = `${sep}node_modules${sep}`;
  const at = realPath.indexOf(marker);
  if (at >= 0) return realPath.slice(0, at + marker.length - 1);
  const dir = dirname(realPath);
  return basename(dir) === 'bin' && dirname(dir) !== '/usr/local' ? dirname(dir) : dir;
}

/** How to install a missing agent, when Yoke knows it. */
function installHint(argv: string[]): string {
  const known = knownAcpAgent(argv);
  return known ? ` (\`${KNOWN_ACP_AGENTS[known].install}\`)` : '';
}

/**
 * Finds an `acp:<command>` program as the runner would run it: an absolute path as given, a bare name on `PATH`.
 * Throws with the path searched and the fix when it is not there or not executable.
 */
export function resolveAcpCommand(argv: string[], pathEnv: string, cwd = process.cwd()): ResolvedAcpCommand {
  const [program, ...args] = argv;
  let found: string | null;
  if (program.includes('/')) {
    const path = isAbsolute(program) ? program : join(cwd, program);
    if (!isExecutableFile(path)) {
      throw new Error(
        `the ACP agent ${path} does not exist or is not executable on this runner: install the agent there, or ` +
          `name the program by a path that exists (acp:/path/to/agent …)${installHint(argv)}`,
      );
    }
    found = path;
  } else {
    const dirs = pathEnv.split(delimiter).filter((d) => d && isAbsolute(d));
    found = dirs.map((d) => join(d, program)).find(isExecutableFile) ?? null;
    if (!found) {
      throw new Error(
        `the ACP agent command "${program}" is not on this runner's PATH (${dirs.join(delimiter) || 'empty'}): ` +
          `install it on the runner${installHint(argv)} and make sure the runner's PATH includes its bin directory, ` +
          `or give its absolute path (acp:/path/to/${program} …)`,
      );
    }
  }
  const real = realpathSync(found);
  const root = installRoot(real);
  return { argv: [real, ...args], codePaths: root ? [root] : [] };
}
