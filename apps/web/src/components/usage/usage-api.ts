import { UsageReport, type UsageGrouping } from '@yoke/protocol';
import { request } from '@/lib/api';
import { parseWire } from '@/lib/wire';

/** `GET /api/v1/usage`: the report, parsed with the protocol's schema before it reaches state. */
export async function fetchUsage(
  q: { by: UsageGrouping; from: string; to: string },
  signal?: AbortSignal,
): Promise<UsageReport> {
  const search = new URLSearchParams(q).toString();
  return parseWire(UsageReport, 'a usage report', await request(`/usage?${search}`, { signal }));
}
