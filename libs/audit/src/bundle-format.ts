import { z } from 'zod';
import { AUDIT_SCHEMA, AuditExportFormat, AuditKeyView, IsoDate, Uuid } from '@yoke/protocol';

/**
 * The audit bundle (`.tar.gz`): what the export job writes and `yoke audit verify` reads, entries in this order:
 *
 *   manifest.json      BundleManifest: what was exported, and the sha256 and size of every other part
 *   keys.json          BundleKey[]: the org's checkpoint keys (C2SP verifier keys)
 *   checkpoints.jsonl  {"note": "<signed checkpoint>"} per line, ascending size; the last one's size is the tree
 *                      the inclusion proof is against, the first and last are tied by the consistency proof
 *   proofs.json        BundleProofs
 *   events.jsonl       BundleEventLine per line, ascending seq; the event as RFC 8785 JSON
 *   events.csv | events.ocsf.jsonl   the CSV or OCSF view of the same events (format csv / ocsf)
 */
export const BUNDLE_FORMAT = 'yoke.audit.bundle/1';

export const BUNDLE_PARTS = {
  manifest: 'manifest.json',
  keys: 'keys.json',
  checkpoints: 'checkpoints.jsonl',
  proofs: 'proofs.json',
  events: 'events.jsonl',
  csv: 'events.csv',
  ocsf: 'events.ocsf.jsonl',
} as const;

/** Parts in archive order for a format (the manifest first, so a reader learns what follows). */
export function bundlePartNames(format: AuditExportFormat): string[] {
  const base = [BUNDLE_PARTS.manifest, BUNDLE_PARTS.keys, BUNDLE_PARTS.checkpoints, BUNDLE_PARTS.proofs];
  switch (format) {
    case 'jsonl':
      return [...base, BUNDLE_PARTS.events];
    case 'csv':
      return [...base, BUNDLE_PARTS.events, BUNDLE_PARTS.csv];
    case 'ocsf':
      return [...base, BUNDLE_PARTS.events, BUNDLE_PARTS.ocsf];
  }
}

const Sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);
const Base64Hash = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'a base64 SHA-256 hash');
const Count = z.number().int().nonnegative();

export const BundleFilters = z.strictObject({
  from: IsoDate.optional(),
  to: IsoDate.optional(),
  sessionId: Uuid.optional(),
  actor: z.string().max(200).optional(),
});
export type BundleFilters = z.infer<typeof BundleFilters>;

/** An export with no filter is the whole log up to the last checkpoint: every seq from 1, no gaps. */
export function isUnfiltered(filters: BundleFilters): boolean {
  return Object.values(filters).every((v) => v === undefined);
}

export const BundleManifest = z.strictObject({
  bundle: z.literal(BUNDLE_FORMAT),
  schema: z.literal(AUDIT_SCHEMA),
  orgId: Uuid,
  origin: z.string().min(1),
  createdAt: IsoDate,
  format: AuditExportFormat,
  filters: BundleFilters,
  /** First and last exported seq; null when no event matched. */
  range: z.strictObject({ fromSeq: z.number().int().positive(), toSeq: z.number().int().positive() }).nullable(),
  /** Size of the last checkpoint: the tree every exported event is proven in. */
  treeSize: Count,
  counts: z.strictObject({ events: Count, checkpoints: Count, keys: Count }),
  parts: z.record(z.string(), z.strictObject({ sha256: Sha256Hex, bytes: Count })),
});
export type BundleManifest = z.infer<typeof BundleManifest>;

export const BundleKey = AuditKeyView.omit({ id: true });
export type BundleKey = z.infer<typeof BundleKey>;
export const BundleKeys = z.array(BundleKey);

export const BundleCheckpointLine = z.strictObject({ note: z.string().min(1).max(10_000) });

export const BundleContent = z
  .strictObject({
    hash: z.string(),
    /** Retention erased the content under `rule`: the event still verifies, the content is gone. */
    redacted: z.strictObject({ rule: z.string(), at: IsoDate }).nullable(),
  })
  .nullable();
export type BundleContent = z.infer<typeof BundleContent>;

/** One line of events.jsonl. `event` is checked apart against `AuditEvent`, to name what is wrong in it. */
export const BundleEventLine = z.strictObject({
  seq: z.number().int().positive(),
  /** Hex leaf hash recorded when the event was appended. */
  leaf: Sha256Hex,
  event: z.unknown(),
  content: BundleContent,
});

export const BundleProofs = z.strictObject({
  inclusion: z.strictObject({
    treeSize: Count,
    /** Leaf index ranges [lo, hi) of the exported events (leaf index = seq - 1), sorted, disjoint. */
    ranges: z.array(z.tuple([Count, Count])),
    /** Batch inclusion proof (merkle.ts `batchProof`), base64. */
    hashes: z.array(Base64Hash),
  }),
  consistency: z.strictObject({ from: Count, to: Count, hashes: z.array(Base64Hash) }),
});
export type BundleProofs = z.infer<typeof BundleProofs>;
