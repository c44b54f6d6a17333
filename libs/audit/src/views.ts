import type { AuditEvent, AuditExportFormat } from '@yoke/protocol';
import { BUNDLE_PARTS } from './bundle-format';
import { CSV_EOL, CSV_HEADER, toCsvRow } from './formats/csv';
import { toOcsf } from './formats/ocsf';

/**
 * A bundle's view of its events for another tool (CSV, OCSF), rendered from the events; the verifier renders
 * it again and compares byte for byte, so a view can never say something the verified events do not.
 */
export interface BundleView {
  part: string;
  /** Bytes before the first row. */
  header: string;
  /** One event, its terminator included. */
  row(event: AuditEvent): string;
}

export function viewOf(format: AuditExportFormat): BundleView | null {
  switch (format) {
    case 'jsonl':
      return null;
    case 'csv':
      return { part: BUNDLE_PARTS.csv, header: `${CSV_HEADER}${CSV_EOL}`, row: (e) => `${toCsvRow(e)}${CSV_EOL}` };
    case 'ocsf':
      return { part: BUNDLE_PARTS.ocsf, header: '', row: (e) => `${JSON.stringify(toOcsf(e))}\n` };
  }
}
