-- The audit trail (DESIGN §9): one append-only log per org with gap-free seqs, its content stored apart by hash,
-- signed checkpoints over the org's RFC 6962 Merkle tree, the checkpoint signing keys, and exports.

-- The org's log head: its size is the last seq. Appending takes this row's lock until commit, so seqs are gap-free
-- and in commit order.
CREATE TABLE audit_heads (
  org_id uuid PRIMARY KEY REFERENCES orgs(id),
  size bigint NOT NULL DEFAULT 0
);

-- `event` is the AuditEvent exactly as hashed (RFC 8785 of it is the leaf's preimage); the other columns are copies
-- for filtering. `leaf` is SHA-256(0x00 || canonical event), recorded when appended.
CREATE TABLE audit_events (
  org_id uuid NOT NULL REFERENCES orgs(id),
  seq bigint NOT NULL,
  id uuid NOT NULL UNIQUE,
  at timestamptz(3) NOT NULL,
  actor_kind text NOT NULL,
  actor_id text NOT NULL,
  action text NOT NULL,
  outcome text NOT NULL,
  session_id uuid,
  event jsonb NOT NULL,
  leaf bytea NOT NULL,
  content_hash text,
  PRIMARY KEY (org_id, seq)
);
CREATE INDEX audit_events_org_id_at_idx ON audit_events(org_id, at);
CREATE INDEX audit_events_org_id_actor_id_idx ON audit_events(org_id, actor_id);
CREATE INDEX audit_events_org_id_action_idx ON audit_events(org_id, action);
CREATE INDEX audit_events_org_id_session_id_idx ON audit_events(org_id, session_id);

-- Content (prompt text, tool input and output) by the hash its event carries. Retention erases `body` and says
-- under which rule; the event's leaf still verifies.
CREATE TABLE audit_contents (
  org_id uuid NOT NULL REFERENCES orgs(id),
  hash text NOT NULL,
  body jsonb,
  redacted_rule text,
  redacted_at timestamptz(3),
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, hash)
);

CREATE TABLE audit_keys (
  id text PRIMARY KEY,
  name text NOT NULL,
  public_key bytea NOT NULL,
  -- The signing key: encrypted with YOKE_SECRET_KEY when the server has one; empty when the key is configured
  -- outside the database (YOKE_AUDIT_SIGNING_KEY) or kept in the embedded home.
  private_key text,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  retired_at timestamptz(3)
);

-- A signed checkpoint (C2SP signed note over origin, size, root, time). `frontier` is the compact range of the tree
-- at `size`, so the next checkpoint extends it with the new leaves only.
CREATE TABLE audit_checkpoints (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES orgs(id),
  size bigint NOT NULL,
  root bytea NOT NULL,
  frontier jsonb NOT NULL,
  key_id text NOT NULL REFERENCES audit_keys(id),
  note text NOT NULL,
  at timestamptz(3) NOT NULL
);
CREATE INDEX audit_checkpoints_org_id_size_at_idx ON audit_checkpoints(org_id, size, at);
CREATE INDEX audit_checkpoints_key_id_idx ON audit_checkpoints(key_id);

CREATE TABLE audit_exports (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES orgs(id),
  requested_by text NOT NULL,
  filters jsonb NOT NULL,
  format text NOT NULL,
  status text NOT NULL,
  progress double precision NOT NULL DEFAULT 0,
  events bigint NOT NULL DEFAULT 0,
  bytes bigint,
  sha256 text,
  path text,
  error text,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  finished_at timestamptz(3)
);
CREATE INDEX audit_exports_org_id_created_at_idx ON audit_exports(org_id, created_at);

-- Append-only, enforced by the database: events and checkpoints are never updated or deleted; content may only be
-- redacted (body erased, rule recorded), never changed or deleted.
CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit rows are append-only (% on %)', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

CREATE FUNCTION audit_content_redact_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' OR NEW.org_id <> OLD.org_id OR NEW.hash <> OLD.hash OR NEW.body IS NOT NULL
     OR NEW.redacted_rule IS NULL OR NEW.redacted_at IS NULL THEN
    RAISE EXCEPTION 'audit content can only be redacted' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER audit_contents_redact_only BEFORE UPDATE OR DELETE ON audit_contents
  FOR EACH ROW EXECUTE FUNCTION audit_content_redact_only();
