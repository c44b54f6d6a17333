/**
 * What a process tree holds, read from /proc: RSS, anonymous and file-backed (status), PSS and anonymous
 * (smaps_rollup), peak RSS and threads. Shared by the memory benches.
 */
import { readdirSync, readFileSync } from 'node:fs';

export type ProcMemory = {
  pid: number;
  role: string;
  rssMb: number;
  anonMb: number;
  fileMb: number;
  pssMb: number;
  hwmMb: number;
  threads: number;
};

const mb = (kb: number) => Math.round(kb / 1024);

function field(text: string, name: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** The pids of `root` and of every descendant, from /proc/<pid>/stat's ppid. */
export function tree(root: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const child of parents.get(pid) ?? []) walk(child);
  };
  walk(root);
  return out;
}

export function role(pid: number): string {
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  if (argv[0]?.endsWith('bwrap')) return 'bwrap (sandbox)';
  const script = argv.find((a, i) => i > 0 && !a.startsWith('-')) ?? argv[0] ?? '?';
  if (script.endsWith('apps/cli/dist/main.js')) return `cli ${argv[argv.indexOf(script) + 1] ?? ''}`.trim();
  if (script.endsWith('apps/server/dist/main.js')) return 'server';
  if (script.endsWith('apps/server/dist/main.worker.js')) return 'worker';
  return script.split('/').slice(-2).join('/');
}

export function memoryOf(pid: number): ProcMemory {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  return {
    pid,
    role: role(pid),
    rssMb: mb(field(status, 'VmRSS')),
    anonMb: mb(field(rollup, 'Anonymous')),
    fileMb: mb(field(status, 'RssFile')),
    pssMb: mb(field(rollup, 'Pss')),
    hwmMb: mb(field(status, 'VmHWM')),
    threads: field(status, 'Threads'),
  };
}
