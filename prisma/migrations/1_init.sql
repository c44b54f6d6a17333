-- Yoke initial schema: orgs, users, memberships, API tokens, runners and enrolments, sessions, items, inbox.
CREATE TYPE org_role AS ENUM ('owner', 'admin', 'member', 'auditor');
CREATE TYPE session_status AS ENUM ('idle', 'running', 'waiting_approval', 'paused', 'failed', 'archived');

CREATE TABLE orgs (
  id uuid PRIMARY KEY,
  slug text NOT NULL UNIQUE,
  name text NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id uuid PRIMARY KEY,
  email text NOT NULL UNIQUE,
  name text NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE memberships (
  org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role org_role NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, user_id)
);
CREATE INDEX memberships_user_id_idx ON memberships(user_id);

CREATE TABLE api_tokens (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name text NOT NULL,
  token_hash text NOT NULL UNIQUE,
  expires_at timestamptz(3),
  revoked_at timestamptz(3),
  last_used_at timestamptz(3),
  created_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX api_tokens_org_id_idx ON api_tokens(org_id);
CREATE INDEX api_tokens_user_id_idx ON api_tokens(user_id);

CREATE TABLE runners (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  name text NOT NULL,
  platform text,
  credential_hash text NOT NULL UNIQUE,
  online boolean NOT NULL DEFAULT false,
  last_seen_at timestamptz(3),
  revoked_at timestamptz(3),
  created_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX runners_org_id_idx ON runners(org_id);

CREATE TABLE runner_enrolments (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  created_by_id uuid,
  name text,
  token_hash text NOT NULL UNIQUE,
  expires_at timestamptz(3) NOT NULL,
  used_at timestamptz(3),
  runner_id uuid,
  created_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX runner_enrolments_org_id_idx ON runner_enrolments(org_id);

CREATE TABLE sessions (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  owner_id uuid NOT NULL REFERENCES users(id) ON DELETE RESTRICT,
  runner_id uuid REFERENCES runners(id) ON DELETE SET NULL,
  parent_id uuid,
  forked_from_id uuid,
  forked_from_seq integer,
  title text NOT NULL,
  agent jsonb NOT NULL,
  harness text NOT NULL,
  model text,
  workspace text,
  status session_status NOT NULL DEFAULT 'idle',
  status_reason text,
  last_seq integer NOT NULL DEFAULT 0,
  cost_usd numeric(14, 6) NOT NULL DEFAULT 0,
  input_tokens bigint NOT NULL DEFAULT 0,
  output_tokens bigint NOT NULL DEFAULT 0,
  idempotency_key text,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX sessions_org_id_owner_id_idempotency_key_key ON sessions(org_id, owner_id, idempotency_key);
CREATE INDEX sessions_org_id_updated_at_idx ON sessions(org_id, updated_at);
CREATE INDEX sessions_owner_id_idx ON sessions(owner_id);
CREATE INDEX sessions_runner_id_idx ON sessions(runner_id);
CREATE INDEX sessions_parent_id_idx ON sessions(parent_id);
CREATE INDEX sessions_forked_from_id_idx ON sessions(forked_from_id);

CREATE TABLE session_items (
  session_id uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  seq integer NOT NULL,
  org_id uuid NOT NULL,
  type text NOT NULL,
  turn_id text,
  actor jsonb,
  body jsonb NOT NULL,
  created_at timestamptz(3) NOT NULL,
  PRIMARY KEY (session_id, seq)
);
CREATE INDEX session_items_org_id_idx ON session_items(org_id);

CREATE TABLE inbox_entries (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL,
  session_id uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  kind text NOT NULL,
  input jsonb NOT NULL,
  idempotency_key text NOT NULL,
  position bigserial NOT NULL,
  delivered_at timestamptz(3),
  created_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX inbox_entries_session_id_idempotency_key_key ON inbox_entries(session_id, idempotency_key);
CREATE INDEX inbox_entries_org_id_idx ON inbox_entries(org_id);
CREATE INDEX inbox_entries_session_id_position_idx ON inbox_entries(session_id, position);
