import { endianness } from 'node:os';

/**
 * A seccomp filter as classic BPF, built here (no libseccomp): check the architecture, then deny the syscalls a
 * coding agent never needs and that open a way out of the sandbox (debugging other processes, mounts, namespaces,
 * kernel keyrings, eBPF, perf, io_uring, modules, new AF_UNIX sockets). Everything else is allowed.
 */

// <linux/seccomp.h>
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
// <linux/audit.h>
export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;
export const EPERM = 1;
export const ENOSYS = 38;
export const AF_UNIX = 1;
/** Any namespace flag in clone(2)'s flags: NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET. */
export const CLONE_NAMESPACE_FLAGS =
  0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;
/** x32 syscalls on x86_64 have this bit set in `nr`: they would bypass an x86_64 table, so all are denied. */
export const X32_SYSCALL_BIT = 0x40000000;

// struct seccomp_data { int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; }
export const OFFSET_NR = 0;
export const OFFSET_ARCH = 4;
/** The low 32 bits of args[i] (both supported architectures are little-endian). */
export const offsetArgLow = (i: number): number => 16 + 8 * i;

// BPF opcodes (linux/filter.h)
export const BPF_LD_W_ABS = 0x00 | 0x00 | 0x20; // BPF_LD | BPF_W | BPF_ABS
export const BPF_JMP_JEQ_K = 0x05 | 0x10 | 0x00; // BPF_JMP | BPF_JEQ | BPF_K
export const BPF_JMP_JGE_K = 0x05 | 0x30 | 0x00; // BPF_JMP | BPF_JGE | BPF_K
export const BPF_JMP_JSET_K = 0x05 | 0x40 | 0x00; // BPF_JMP | BPF_JSET | BPF_K
export const BPF_RET_K = 0x06 | 0x00; // BPF_RET | BPF_K

export type SeccompArch = 'x86_64' | 'aarch64';

/** Syscalls denied with EPERM (the x86_64 and aarch64 numbers; `null` where the arch has no such call). */
export const DENIED_SYSCALLS: Record<string, Record<SeccompArch, number | null>> = {
  ptrace: { x86_64: 101, aarch64: 117 },
  process_vm_readv: { x86_64: 310, aarch64: 270 },
  process_vm_writev: { x86_64: 311, aarch64: 271 },
  pidfd_getfd: { x86_64: 438, aarch64: 438 },
  mount: { x86_64: 165, aarch64: 40 },
  umount2: { x86_64: 166, aarch64: 39 },
  pivot_root: { x86_64: 155, aarch64: 41 },
  chroot: { x86_64: 161, aarch64: 51 },
  open_tree: { x86_64: 428, aarch64: 428 },
  move_mount: { x86_64: 429, aarch64: 429 },
  fsopen: { x86_64: 430, aarch64: 430 },
  fsconfig: { x86_64: 431, aarch64: 431 },
  fsmount: { x86_64: 432, aarch64: 432 },
  fspick: { x86_64: 433, aarch64: 433 },
  mount_setattr: { x86_64: 442, aarch64: 442 },
  unshare: { x86_64: 272, aarch64: 97 },
  setns: { x86_64: 308, aarch64: 268 },
  keyctl: { x86_64: 250, aarch64: 219 },
  add_key: { x86_64: 248, aarch64: 217 },
  request_key: { x86_64: 249, aarch64: 218 },
  bpf: { x86_64: 321, aarch64: 280 },
  perf_event_open: { x86_64: 298, aarch64: 241 },
  userfaultfd: { x86_64: 323, aarch64: 282 },
  io_uring_setup: { x86_64: 425, aarch64: 425 },
  io_uring_enter: { x86_64: 426, aarch64: 426 },
  io_uring_register: { x86_64: 427, aarch64: 427 },
  kexec_load: { x86_64: 246, aarch64: 104 },
  kexec_file_load: { x86_64: 320, aarch64: 294 },
  init_module: { x86_64: 175, aarch64: 105 },
  finit_module: { x86_64: 313, aarch64: 273 },
  delete_module: { x86_64: 176, aarch64: 106 },
  open_by_handle_at: { x86_64: 304, aarch64: 265 },
  name_to_handle_at: { x86_64: 303, aarch64: 264 },
  swapon: { x86_64: 167, aarch64: 224 },
  swapoff: { x86_64: 168, aarch64: 225 },
  reboot: { x86_64: 169, aarch64: 142 },
  syslog: { x86_64: 103, aarch64: 116 },
  acct: { x86_64: 163, aarch64: 89 },
  quotactl: { x86_64: 179, aarch64: 60 },
  lookup_dcookie: { x86_64: 212, aarch64: 18 },
  uselib: { x86_64: 134, aarch64: null },
  iopl: { x86_64: 172, aarch64: null },
  ioperm: { x86_64: 173, aarch64: null },
  vhangup: { x86_64: 153, aarch64: 58 },
  settimeofday: { x86_64: 164, aarch64: 170 },
  clock_settime: { x86_64: 227, aarch64: 112 },
  adjtimex: { x86_64: 159, aarch64: 171 },
  clock_adjtime: { x86_64: 305, aarch64: 266 },
};

/** Syscalls whose arguments are checked. */
export const CHECKED_SYSCALLS: Record<'socket' | 'socketpair' | 'clone' | 'clone3', Record<SeccompArch, number>> = {
  socket: { x86_64: 41, aarch64: 198 },
  socketpair: { x86_64: 53, aarch64: 199 },
  clone: { x86_64: 56, aarch64: 220 },
  clone3: { x86_64: 435, aarch64: 435 },
};

const AUDIT_ARCH: Record<SeccompArch, number> = { x86_64: AUDIT_ARCH_X86_64, aarch64: AUDIT_ARCH_AARCH64 };

export interface SockFilter {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** An instruction whose jump targets are labels, resolved to relative offsets by `assemble`. */
type Insn = { op: SockFilter; jt?: string; jf?: string } | { label: string };

const stmt = (code: number, k: number): Insn => ({ op: { code, jt: 0, jf: 0, k } });
const jump = (code: number, k: number, jt: string, jf: string): Insn => ({ op: { code, jt: 0, jf: 0, k }, jt, jf });
const ret = (k: number): Insn => stmt(BPF_RET_K, k);

/** Resolves labels into the forward-only relative offsets classic BPF needs (each at most 255). */
export function assemble(program: Insn[]): SockFilter[] {
  const labels = new Map<string, number>();
  const out: { op: SockFilter; jt?: string; jf?: string }[] = [];
  for (const insn of program) {
    if ('label' in insn) {
      if (labels.has(insn.label)) throw new Error(`duplicate label ${insn.label}`);
      labels.set(insn.label, out.length);
    } else out.push(insn);
  }
  return out.map((insn, pc) => {
    const target = (label: string | undefined): number => {
      if (label === undefined) return 0;
      const at = labels.get(label);
      if (at === undefined) throw new Error(`unknown label ${label}`);
      const offset = at - pc - 1;
      if (offset < 0 || offset > 255) throw new Error(`jump to ${label} out of range (${offset})`);
      return offset;
    };
    return { ...insn.op, jt: target(insn.jt), jf: target(insn.jf) };
  });
}

const NEXT = (arch: SeccompArch, i: number): string => `${arch}:next${i}`;

function archSection(arch: SeccompArch, denyRet: string, allowRet: string): Insn[] {
  const p: Insn[] = [{ label: arch }, stmt(BPF_LD_W_ABS, OFFSET_NR)];
  if (arch === 'x86_64') p.push(jump(BPF_JMP_JGE_K, X32_SYSCALL_BIT, denyRet, NEXT(arch, 0)), { label: NEXT(arch, 0) });
  const c = (name: keyof typeof CHECKED_SYSCALLS): number => CHECKED_SYSCALLS[name][arch];
  p.push(jump(BPF_JMP_JEQ_K, c('socket'), `${arch}:socket`, NEXT(arch, 1)), { label: NEXT(arch, 1) });
  p.push(jump(BPF_JMP_JEQ_K, c('clone'), `${arch}:clone`, NEXT(arch, 2)), { label: NEXT(arch, 2) });
  // clone3 passes its flags in memory a filter cannot read: ENOSYS makes libc fall back to clone(2).
  p.push(jump(BPF_JMP_JEQ_K, c('clone3'), 'ret:enosys', NEXT(arch, 3)), { label: NEXT(arch, 3) });
  let i = 4;
  for (const numbers of Object.values(DENIED_SYSCALLS)) {
    const nr = numbers[arch];
    if (nr === null) continue;
    p.push(jump(BPF_JMP_JEQ_K, nr, denyRet, NEXT(arch, i)), { label: NEXT(arch, i) });
    i++;
  }
  p.push(jump(BPF_JMP_JEQ_K, 0, allowRet, allowRet)); // unconditional: jump to the shared ALLOW
  // socket(domain, …): AF_UNIX is denied; socketpair(2) (how Node wires child stdio) is another syscall, allowed.
  p.push({ label: `${arch}:socket` }, stmt(BPF_LD_W_ABS, offsetArgLow(0)));
  p.push(jump(BPF_JMP_JEQ_K, AF_UNIX, denyRet, allowRet));
  // clone(flags, …): any new namespace is denied, threads and fork are not.
  p.push({ label: `${arch}:clone` }, stmt(BPF_LD_W_ABS, offsetArgLow(0)));
  p.push(jump(BPF_JMP_JSET_K, CLONE_NAMESPACE_FLAGS, denyRet, allowRet));
  return p;
}

export interface SeccompOptions {
  /** What an unknown architecture (e.g. i386 `int 0x80` on x86_64) gets. Default: kill the process. */
  onArchMismatch?: 'kill' | 'eperm';
  /** Byte order of the output; default the host's. */
  endianness?: 'LE' | 'BE';
}

/** The filter as `sock_filter` structs. */
export function buildSeccompFilter(opts: SeccompOptions = {}): SockFilter[] {
  const mismatch = opts.onArchMismatch === 'eperm' ? SECCOMP_RET_ERRNO | EPERM : SECCOMP_RET_KILL_PROCESS;
  const program: Insn[] = [stmt(BPF_LD_W_ABS, OFFSET_ARCH)];
  program.push(jump(BPF_JMP_JEQ_K, AUDIT_ARCH.x86_64, 'x86_64', 'arch:1'), { label: 'arch:1' });
  program.push(jump(BPF_JMP_JEQ_K, AUDIT_ARCH.aarch64, 'aarch64', 'arch:bad'), { label: 'arch:bad' });
  program.push(ret(mismatch));
  program.push(...archSection('x86_64', 'ret:eperm', 'ret:allow'));
  program.push(...archSection('aarch64', 'ret:eperm', 'ret:allow'));
  program.push({ label: 'ret:allow' }, ret(SECCOMP_RET_ALLOW));
  program.push({ label: 'ret:eperm' }, ret(SECCOMP_RET_ERRNO | EPERM));
  program.push({ label: 'ret:enosys' }, ret(SECCOMP_RET_ERRNO | ENOSYS));
  return assemble(program);
}

/** `struct sock_filter { __u16 code; __u8 jt; __u8 jf; __u32 k; }` in host byte order, as `bwrap --seccomp` reads it. */
export function encodeFilter(filter: SockFilter[], order: 'LE' | 'BE' = endianness()): Buffer {
  if (filter.length === 0 || filter.length > 4096) throw new Error(`a BPF program has 1..4096 instructions`);
  const buf = Buffer.alloc(filter.length * 8);
  filter.forEach((f, i) => {
    if (order === 'LE') {
      buf.writeUInt16LE(f.code, i * 8);
      buf.writeUInt32LE(f.k >>> 0, i * 8 + 4);
    } else {
      buf.writeUInt16BE(f.code, i * 8);
      buf.writeUInt32BE(f.k >>> 0, i * 8 + 4);
    }
    buf.writeUInt8(f.jt, i * 8 + 2);
    buf.writeUInt8(f.jf, i * 8 + 3);
  });
  return buf;
}

export function decodeFilter(buf: Buffer, order: 'LE' | 'BE' = endianness()): SockFilter[] {
  if (buf.length % 8 !== 0) throw new Error('a BPF program is a whole number of 8-byte instructions');
  const out: SockFilter[] = [];
  for (let at = 0; at < buf.length; at += 8) {
    out.push({
      code: order === 'LE' ? buf.readUInt16LE(at) : buf.readUInt16BE(at),
      jt: buf.readUInt8(at + 2),
      jf: buf.readUInt8(at + 3),
      k: order === 'LE' ? buf.readUInt32LE(at + 4) : buf.readUInt32BE(at + 4),
    });
  }
  return out;
}

/** The program bytes for `bwrap --seccomp FD`. */
export function buildSeccompProgram(opts: SeccompOptions = {}): Buffer {
  return encodeFilter(buildSeccompFilter(opts), opts.endianness);
}
