import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import { withLiveBundle } from './audit-export';
import { NoteError, parseVerifierKey, verifyBundle, type VerifyReport, type VerifySuccess } from '@yoke/audit';

export interface AuditVerifyOptions {
  /** Verifier keys to trust (`name+hash+key`, as `GET /audit/keys` lists them); default: the bundle's own. */
  key?: string[];
  /** The bundle's published SHA-256, checked too when given. */
  sha256?: string;
  json?: boolean;
}

export interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Show a progress bar (a terminal, not --json). */
  progress: boolean;
}

const processOutput = (): Output => ({
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  progress: process.stderr.isTTY === true,
});

/**
 * `yoke audit verify FILE [--key VKEY…] [--sha256 HEX] [--json]`: checks an audit bundle with no server and no
 * network; with `--server URL` and no FILE, the live log, exported whole first. Exit 0 when intact, with a summary;
 * 1 with `seq N: <kind>: <message>` when not; 2 on bad arguments.
 */
export async function auditVerifyCommand(
  file: string | undefined,
  opts: AuditVerifyOptions & { server?: string; home?: string },
  output: Output = processOutput(),
): Promise<number> {
  for (const key of opts.key ?? []) {
    try {
      parseVerifierKey(key);
    } catch (e) {
      output.err(`yoke audit verify: --key ${key}: ${e instanceof NoteError ? e.message : String(e)}\n`);
      return 2;
    }
  }
  if (opts.sha256 !== undefined && !/^[0-9a-fA-F]{64}$/.test(opts.sha256)) {
    output.err('yoke audit verify: --sha256 takes 64 hex digits\n');
    return 2;
  }
  if (file === undefined) {
    if (opts.server === undefined) {
      output.err('yoke audit verify: give a bundle FILE, or --server URL to check the live log\n');
      return 2;
    }
    // The live log of the caller's org: exported whole, then checked like any bundle against its latest checkpoint.
    return withLiveBundle(opts, (live) => verifyFile(live, opts, output));
  }
  const path = resolve(file);
  if (!existsSync(path)) {
    output.err(`yoke audit verify: no such file: ${path}\n`);
    return 2;
  }
  return verifyFile(path, opts, output);
}

/** Verifies one bundle file and prints the verdict; the exit code. */
export async function verifyFile(path: string, opts: AuditVerifyOptions, output: Output): Promise<number> {
  const bar =
    output.progress && !opts.json
      ? new SingleBar({ format: 'verifying [{bar}] {percentage}% | {value}/{total} events', hideCursor: true })
      : null;
  let started = false;
  let report: VerifyReport;
  try {
    report = await verifyBundle(path, {
      trustedKeys: opts.key?.length ? opts.key : undefined,
      sha256: opts.sha256,
      onProgress: bar
        ? (done, total) => {
            if (!started) bar.start(total, 0);
            started = true;
            bar.update(done);
          }
        : undefined,
    });
  } finally {
    if (started) bar?.stop();
  }
  if (opts.json) {
    output.out(`${JSON.stringify(report, null, 2)}\n`);
    return report.ok ? 0 : 1;
  }
  if (!report.ok) {
    output.out(`${report.seq === null ? 'bundle' : `seq ${report.seq}`}: ${report.kind}: ${report.message}\n`);
    return 1;
  }
  output.out(summary(path, report));
  return 0;
}

const n = (x: number): string => x.toLocaleString('en-US');

function summary(path: string, r: VerifySuccess): string {
  const filters = Object.entries(r.filters)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
  const lines = [
    `intact: ${path}`,
    `  events       ${n(r.events)}${r.range ? ` (seq ${n(r.range.fromSeq)} to ${n(r.range.toSeq)})` : ''}, org ${r.orgId}`,
    `  export       ${filters ? `filtered: ${filters}` : 'unfiltered: the whole log'}, format ${r.format}`,
    `  tree         size ${n(r.treeSize)}, root ${r.root}`,
    `  checkpoints  ${n(r.checkpoints)}, signed by ${r.keys.join(', ')}`,
    r.keysTrusted
      ? '  keys         trusted: checked against the --key given'
      : "  keys         the bundle's own: pass --key VKEY (from GET /audit/keys or your records) to pin them",
    `  redacted     ${r.redacted.count === 0 ? 'none' : `${n(r.redacted.count)} (${r.redacted.rules.join(', ')}): content erased, events intact`}`,
    `  sha256       ${r.sha256}`,
  ];
  return `${lines.join('\n')}\n`;
}
