import { readFileSync } from 'node:fs';
import { checkSandbox, type SandboxCheck } from '@yoke/omnibox';

/** What of the host decides which one command fixes the sandbox: the distribution, root or not, the userns sysctls. */
export interface HostFacts {
  /** The text of /etc/os-release ('' where there is none). */
  osRelease: string;
  isRoot: boolean;
  /** A sysctl's value (`kernel.unprivileged_userns_clone`), or null where the kernel has no such setting. */
  sysctl: (name: string) => string | null;
}

export function readHostFacts(): HostFacts {
  return {
    osRelease: readOrEmpty('/etc/os-release'),
    isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
    sysctl: (name) => {
      const value = readOrEmpty(`/proc/sys/${name.replace(/\./g, '/')}`).trim();
      return value === '' ? null : value;
    },
  };
}

function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The distribution's ID and the ones it is like (`ID_LIKE`), lower case. */
function distroIds(osRelease: string): string[] {
  const field = (name: string): string =>
    new RegExp(`^${name}=("?)([^"\\n]*)\\1$`, 'm').exec(osRelease)?.[2].toLowerCase() ?? '';
  return [field('ID'), ...field('ID_LIKE').split(/\s+/)].filter(Boolean);
}

const INSTALL_BUBBLEWRAP: { ids: string[]; command: string }[] = [
  { ids: ['debian', 'ubuntu'], command: 'apt install bubblewrap' },
  { ids: ['fedora', 'rhel', 'centos'], command: 'dnf install bubblewrap' },
  { ids: ['arch'], command: 'pacman -S bubblewrap' },
  { ids: ['alpine'], command: 'apk add bubblewrap' },
  { ids: ['suse', 'opensuse'], command: 'zypper install bubblewrap' },
];

/**
 * The one command that fixes a failed sandbox check on this host, or null when no single command does (another
 * distribution, a container without user namespaces): the check's own, longer fix then applies.
 */
export function oneCommandFix(check: Pick<SandboxCheck, 'name'>, host: HostFacts): string | null {
  const sudo = host.isRoot ? '' : 'sudo ';
  if (check.name === 'bwrap') {
    const ids = distroIds(host.osRelease);
    const known = INSTALL_BUBBLEWRAP.find((d) => d.ids.some((id) => ids.includes(id)));
    return known ? `${sudo}${known.command}` : null;
  }
  if (check.name === 'namespaces') {
    // In the order the kernel applies them: AppArmor's restriction (Ubuntu 23.10+), Debian's switch, the count.
    if (host.sysctl('kernel.apparmor_restrict_unprivileged_userns') === '1') {
      return `${sudo}sysctl -w kernel.apparmor_restrict_unprivileged_userns=0`;
    }
    if (host.sysctl('kernel.unprivileged_userns_clone') === '0') {
      return `${sudo}sysctl -w kernel.unprivileged_userns_clone=1`;
    }
    if (host.sysctl('user.max_user_namespaces') === '0') return `${sudo}sysctl -w user.max_user_namespaces=15000`;
  }
  return null;
}

export interface SandboxProblem {
  check: SandboxCheck['name'];
  detail: string;
  fix: string;
}

/**
 * What keeps this machine's runner from running harnesses in Omnibox (`yoke sandbox check`'s checks), each with the
 * one command that fixes it where there is one. Empty: sessions run sandboxed. Takes about 100 ms.
 */
export async function sandboxProblems(host: HostFacts = readHostFacts()): Promise<SandboxProblem[]> {
  const report = await checkSandbox();
  return report.checks
    .filter((c) => !c.ok)
    .map((c) => ({
      check: c.name,
      detail: c.detail,
      fix: oneCommandFix(c, host) ?? c.fix ?? 'see `yoke sandbox check`',
    }));
}
