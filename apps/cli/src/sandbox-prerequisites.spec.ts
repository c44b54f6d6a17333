import { type HostFacts, oneCommandFix } from './sandbox-prerequisites';

const host = (over: Partial<HostFacts> & { sysctls?: Record<string, string> } = {}): HostFacts => ({
  osRelease: over.osRelease ?? '',
  isRoot: over.isRoot ?? false,
  sysctl: (name) => over.sysctls?.[name] ?? null,
});

const DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nID=debian\n';
const UBUNTU = 'NAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\nID_LIKE=debian\n';
const MINT = 'NAME="Linux Mint"\nID=linuxmint\nID_LIKE="ubuntu debian"\n';
const FEDORA = 'NAME="Fedora Linux"\nID=fedora\n';
const ROCKY = 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\n';
const ARCH = 'NAME="Arch Linux"\nID=arch\n';
const NIXOS = 'NAME=NixOS\nID=nixos\n';

describe('the one command that fixes the sandbox on this host', () => {
  it('installs bubblewrap with the package manager of the distribution (or of the one it is like)', () => {
    const bwrap = { name: 'bwrap' as const };
    expect(oneCommandFix(bwrap, host({ osRelease: DEBIAN }))).toBe('sudo apt install bubblewrap');
    expect(oneCommandFix(bwrap, host({ osRelease: UBUNTU }))).toBe('sudo apt install bubblewrap');
    expect(oneCommandFix(bwrap, host({ osRelease: MINT }))).toBe('sudo apt install bubblewrap');
    expect(oneCommandFix(bwrap, host({ osRelease: FEDORA }))).toBe('sudo dnf install bubblewrap');
    expect(oneCommandFix(bwrap, host({ osRelease: ROCKY }))).toBe('sudo dnf install bubblewrap');
    expect(oneCommandFix(bwrap, host({ osRelease: ARCH }))).toBe('sudo pacman -S bubblewrap');
  });

  it('drops sudo for root', () => {
    expect(oneCommandFix({ name: 'bwrap' }, host({ osRelease: DEBIAN, isRoot: true }))).toBe('apt install bubblewrap');
  });

  it('has no one command where it does not know the distribution: the check keeps its longer fix', () => {
    expect(oneCommandFix({ name: 'bwrap' }, host({ osRelease: NIXOS }))).toBeNull();
    expect(oneCommandFix({ name: 'bwrap' }, host())).toBeNull();
  });

  it('lifts the setting that forbids unprivileged user namespaces, AppArmor first', () => {
    const ns = { name: 'namespaces' as const };
    expect(
      oneCommandFix(
        ns,
        host({ sysctls: { 'kernel.apparmor_restrict_unprivileged_userns': '1', 'user.max_user_namespaces': '0' } }),
      ),
    ).toBe('sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0');
    expect(oneCommandFix(ns, host({ sysctls: { 'kernel.unprivileged_userns_clone': '0' } }))).toBe(
      'sudo sysctl -w kernel.unprivileged_userns_clone=1',
    );
    expect(oneCommandFix(ns, host({ sysctls: { 'user.max_user_namespaces': '0' } }))).toBe(
      'sudo sysctl -w user.max_user_namespaces=15000',
    );
    // Every sysctl allows them, and still no namespace: a container's seccomp profile; no one command fixes that.
    expect(oneCommandFix(ns, host({ sysctls: { 'user.max_user_namespaces': '63000' } }))).toBeNull();
  });

  it('has no one command for a seccomp failure', () => {
    expect(oneCommandFix({ name: 'seccomp' }, host({ osRelease: DEBIAN }))).toBeNull();
  });
});
