-- Audit sinks (DESIGN §10, docs/audit.md "Streaming to a SIEM"): where an org's audit log is streamed, at least once
-- and in seq order, from a cursor persisted here. `cursor` is the last seq the sink acknowledged (a 2xx, or an OTLP
-- export that succeeded); it only moves forward, by compare-and-set on its old value.
CREATE TABLE audit_sinks (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  name text NOT NULL,
  -- webhook | otlp_logs
  kind text NOT NULL,
  url text NOT NULL,
  -- yoke | ocsf
  format text NOT NULL,
  -- The webhook's HMAC key, sealed with YOKE_SECRET_KEY (AES-256-GCM); empty for OTLP sinks.
  secret_enc text,
  enabled boolean NOT NULL DEFAULT true,
  cursor bigint NOT NULL DEFAULT 0 CHECK (cursor >= 0),
  last_delivered_at timestamptz(3),
  last_error text,
  -- Set by the first failed delivery after a success, cleared by the next success.
  failing_since timestamptz(3),
  -- Failed deliveries since the last success.
  attempts integer NOT NULL DEFAULT 0,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX audit_sinks_org_id_created_at_idx ON audit_sinks(org_id, created_at);
