import {
  AF_UNIX,
  AUDIT_ARCH_AARCH64,
  AUDIT_ARCH_X86_64,
  buildSeccompFilter,
  buildSeccompProgram,
  CHECKED_SYSCALLS,
  decodeFilter,
  DENIED_SYSCALLS,
  encodeFilter,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  type SeccompArch,
  type SockFilter,
} from './seccomp';

/** A tiny classic-BPF interpreter over `struct seccomp_data`, independent of the builder: it reads the bytes. */
function run(filter: SockFilter[], data: { nr: number; arch: number; args?: number[] }): number {
  const word = (offset: number): number => {
    if (offset === 0) return data.nr >>> 0;
    if (offset === 4) return data.arch >>> 0;
    if (offset >= 16 && offset < 64 && offset % 8 === 0) return (data.args?.[(offset - 16) / 8] ?? 0) >>> 0;
    if (offset >= 16 && offset < 64 && offset % 8 === 4) return 0; // high halves
    throw new Error(`bad load offset ${offset}`);
  };
  let acc = 0;
  let pc = 0;
  for (let steps = 0; steps < 10_000; steps++) {
    const insn = filter[pc];
    if (!insn) throw new Error(`fell off the program at ${pc}`);
    const cls = insn.code & 0x07;
    if (cls === 0x00) {
      if (insn.code !== 0x20) throw new Error(`unsupported load ${insn.code}`);
      acc = word(insn.k);
      pc++;
    } else if (cls === 0x05) {
      const op = insn.code & 0xf0;
      if (insn.code & 0x08) throw new Error('X-register jumps unsupported');
      let taken: boolean;
      if (op === 0x00) {
        pc += 1 + insn.k;
        continue;
      } else if (op === 0x10) taken = acc === insn.k >>> 0;
      else if (op === 0x20) taken = acc > insn.k >>> 0;
      else if (op === 0x30) taken = acc >= insn.k >>> 0;
      else if (op === 0x40) taken = (acc & insn.k) !== 0;
      else throw new Error(`unsupported jump ${insn.code}`);
      pc += 1 + (taken ? insn.jt : insn.jf);
    } else if (cls === 0x06) {
      if (insn.code !== 0x06) throw new Error(`unsupported ret ${insn.code}`);
      return insn.k >>> 0;
    } else throw new Error(`unsupported class ${cls}`);
  }
  throw new Error('no verdict');
}

const ARCH: Record<SeccompArch, number> = { x86_64: AUDIT_ARCH_X86_64, aarch64: AUDIT_ARCH_AARCH64 };
const EPERM = (SECCOMP_RET_ERRNO | 1) >>> 0;
const ENOSYS = (SECCOMP_RET_ERRNO | 38) >>> 0;
const program = decodeFilter(buildSeccompProgram());

// A sample of ordinary syscalls per arch: read, write, openat, execve, socketpair, mmap, futex, pipe2, kill.
const ORDINARY: Record<SeccompArch, number[]> = {
  x86_64: [0, 1, 257, 59, 53, 9, 202, 293, 62, 61, 231],
  aarch64: [63, 64, 56, 221, 199, 222, 98, 59, 129, 260, 94],
};

describe('seccomp program', () => {
  it('round-trips through its byte encoding', () => {
    const filter = buildSeccompFilter();
    const bytes = encodeFilter(filter, 'LE');
    expect(bytes.length).toBe(filter.length * 8);
    expect(decodeFilter(bytes, 'LE')).toEqual(filter);
    expect(decodeFilter(encodeFilter(filter, 'BE'), 'BE')).toEqual(filter);
    // first instruction: ld [4] (arch)
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x20, 0, 0, 0, 4, 0, 0, 0]));
  });

  it.each(['x86_64', 'aarch64'] as const)('denies every listed syscall with EPERM on %s', (arch) => {
    for (const [name, numbers] of Object.entries(DENIED_SYSCALLS)) {
      const nr = numbers[arch];
      if (nr === null) continue;
      expect([name, run(program, { nr, arch: ARCH[arch] })]).toEqual([name, EPERM]);
    }
  });

  it.each(['x86_64', 'aarch64'] as const)('allows ordinary syscalls on %s', (arch) => {
    for (const nr of ORDINARY[arch])
      expect([nr, run(program, { nr, arch: ARCH[arch] })]).toEqual([nr, SECCOMP_RET_ALLOW]);
  });

  it.each(['x86_64', 'aarch64'] as const)(
    'denies socket(AF_UNIX) but allows other families and socketpair on %s',
    (arch) => {
      const socket = CHECKED_SYSCALLS.socket[arch];
      expect(run(program, { nr: socket, arch: ARCH[arch], args: [AF_UNIX, 1, 0] })).toBe(EPERM);
      expect(run(program, { nr: socket, arch: ARCH[arch], args: [2, 1, 0] })).toBe(SECCOMP_RET_ALLOW); // AF_INET
      expect(run(program, { nr: socket, arch: ARCH[arch], args: [10, 1, 0] })).toBe(SECCOMP_RET_ALLOW); // AF_INET6
      const pair = CHECKED_SYSCALLS.socketpair[arch];
      expect(run(program, { nr: pair, arch: ARCH[arch], args: [AF_UNIX, 1, 0] })).toBe(SECCOMP_RET_ALLOW);
    },
  );

  it.each(['x86_64', 'aarch64'] as const)(
    'denies clone with namespace flags, allows fork and threads on %s',
    (arch) => {
      const clone = CHECKED_SYSCALLS.clone[arch];
      const SIGCHLD = 17;
      const thread = 0x003d0f00; // CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID
      expect(run(program, { nr: clone, arch: ARCH[arch], args: [SIGCHLD] })).toBe(SECCOMP_RET_ALLOW);
      expect(run(program, { nr: clone, arch: ARCH[arch], args: [thread] })).toBe(SECCOMP_RET_ALLOW);
      for (const ns of [0x20000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000]) {
        expect(run(program, { nr: clone, arch: ARCH[arch], args: [SIGCHLD | ns] })).toBe(EPERM);
      }
      expect(run(program, { nr: CHECKED_SYSCALLS.clone3[arch], arch: ARCH[arch] })).toBe(ENOSYS);
    },
  );

  it('kills on any other architecture (i386, x32 numbers) and can be told to answer EPERM instead', () => {
    const I386 = 0x40000003;
    expect(run(program, { nr: 26, arch: I386 })).toBe(SECCOMP_RET_KILL_PROCESS);
    expect(run(program, { nr: 0, arch: 0 })).toBe(SECCOMP_RET_KILL_PROCESS);
    const soft = decodeFilter(buildSeccompProgram({ onArchMismatch: 'eperm' }));
    expect(run(soft, { nr: 26, arch: I386 })).toBe(EPERM);
    // x32 ABI: same AUDIT_ARCH as x86_64, nr | 0x40000000
    expect(run(program, { nr: 0x40000000 | 101, arch: AUDIT_ARCH_X86_64 })).toBe(EPERM);
    expect(run(program, { nr: 0x40000000 | 0, arch: AUDIT_ARCH_X86_64 })).toBe(EPERM);
  });

  it('uses x86_64 numbers only for x86_64 (aarch64 ptrace number is harmless on x86_64)', () => {
    // 117 is ptrace on aarch64 but setresuid on x86_64
    expect(run(program, { nr: 117, arch: AUDIT_ARCH_X86_64 })).toBe(SECCOMP_RET_ALLOW);
    expect(run(program, { nr: 117, arch: AUDIT_ARCH_AARCH64 })).toBe(EPERM);
  });
});
