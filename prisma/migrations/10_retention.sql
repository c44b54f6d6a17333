-- Retention and legal hold (docs/governance.md): how long each org keeps session content and audit content, the
-- holds that keep it past that, and where erased session content is marked.

-- An org's retention: days to keep session content (from the session's last activity) and audit content (from its
-- event's time); NULL keeps it forever. No row: everything is kept.
CREATE TABLE org_retention (
  org_id uuid PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
  session_content_days integer CHECK (session_content_days BETWEEN 1 AND 36500),
  audit_content_days integer CHECK (audit_content_days BETWEEN 1 AND 36500),
  updated_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_by uuid
);

-- A legal hold: while not released, nothing it covers is erased. `target_id` is the org, a user or a session of
-- the org. Released holds stay, for the record.
CREATE TABLE legal_holds (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  scope text NOT NULL CHECK (scope IN ('org', 'user', 'session')),
  target_id uuid NOT NULL,
  reason text NOT NULL,
  created_by uuid NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  released_at timestamptz(3),
  released_by uuid
);
CREATE INDEX legal_holds_org_id_released_at_idx ON legal_holds(org_id, released_at);
CREATE INDEX legal_holds_org_id_scope_target_id_idx ON legal_holds(org_id, scope, target_id);

-- When retention replaced an item's (or an inbox input's) content with the erasure marker.
ALTER TABLE session_items ADD COLUMN erased_at timestamptz(3);
ALTER TABLE inbox_entries ADD COLUMN erased_at timestamptz(3);

-- The sweep checks every event naming a content before redacting it.
CREATE INDEX audit_events_org_id_content_hash_idx ON audit_events(org_id, content_hash);
