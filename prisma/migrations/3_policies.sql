-- Org policies: one versioned YAML set per org, written by admins. Sessions keep the entries they started with.
CREATE TABLE org_policies (
  org_id uuid PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
  yaml text NOT NULL,
  version integer NOT NULL,
  updated_by jsonb,
  updated_at timestamptz(3) NOT NULL DEFAULT now()
);

ALTER TABLE sessions ADD COLUMN policies jsonb NOT NULL DEFAULT '[]'::jsonb;
