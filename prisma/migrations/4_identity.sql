-- Identity and tenancy: invitations, per-org OIDC single sign-on, browser sessions, OIDC login states,
-- device authorizations (RFC 8628) for the CLI, scoped API tokens, rotatable runner credentials.

ALTER TABLE api_tokens ADD COLUMN scope text NOT NULL DEFAULT 'write';
ALTER TABLE api_tokens ADD COLUMN kind text NOT NULL DEFAULT 'api';

ALTER TABLE runners ADD COLUMN previous_credential_hash text UNIQUE;
ALTER TABLE runners ADD COLUMN credential_rotated_at timestamptz(3);

CREATE INDEX runner_enrolments_created_by_id_idx ON runner_enrolments(created_by_id);

CREATE TABLE invitations (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  email text NOT NULL,
  role org_role NOT NULL,
  invited_by_id uuid REFERENCES users(id) ON DELETE SET NULL,
  expires_at timestamptz(3) NOT NULL,
  accepted_at timestamptz(3),
  revoked_at timestamptz(3),
  created_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX invitations_org_id_email_idx ON invitations(org_id, email);
CREATE INDEX invitations_invited_by_id_idx ON invitations(invited_by_id);

CREATE TABLE org_sso (
  org_id uuid PRIMARY KEY REFERENCES orgs(id) ON DELETE CASCADE,
  issuer text NOT NULL,
  client_id text NOT NULL,
  client_secret_enc text NOT NULL,
  allowed_domains jsonb NOT NULL,
  default_role org_role NOT NULL DEFAULT 'member',
  updated_at timestamptz(3) NOT NULL DEFAULT now(),
  created_at timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE identities (
  issuer text NOT NULL,
  subject text NOT NULL,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (issuer, subject)
);
CREATE INDEX identities_user_id_idx ON identities(user_id);
CREATE INDEX identities_org_id_idx ON identities(org_id);

CREATE TABLE web_sessions (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  token_hash text NOT NULL UNIQUE,
  expires_at timestamptz(3) NOT NULL,
  revoked_at timestamptz(3),
  created_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX web_sessions_org_id_idx ON web_sessions(org_id);
CREATE INDEX web_sessions_user_id_idx ON web_sessions(user_id);

CREATE TABLE oidc_states (
  state_hash text PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  expires_at timestamptz(3) NOT NULL,
  used_at timestamptz(3),
  created_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX oidc_states_org_id_idx ON oidc_states(org_id);

CREATE TABLE device_authorizations (
  id uuid PRIMARY KEY,
  device_code_hash text NOT NULL UNIQUE,
  user_code text NOT NULL UNIQUE,
  client_name text NOT NULL,
  scope text NOT NULL,
  status text NOT NULL DEFAULT 'pending',
  org_id uuid REFERENCES orgs(id) ON DELETE CASCADE,
  user_id uuid REFERENCES users(id) ON DELETE CASCADE,
  token_id uuid,
  interval_seconds integer NOT NULL,
  last_polled_at timestamptz(3),
  expires_at timestamptz(3) NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX device_authorizations_org_id_idx ON device_authorizations(org_id);
CREATE INDEX device_authorizations_user_id_idx ON device_authorizations(user_id);
