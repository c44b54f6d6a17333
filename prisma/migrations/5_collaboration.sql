-- Collaboration: who a session is shared with (org members and link guests), share links, and comment threads.
CREATE TYPE share_role AS ENUM ('driver', 'commenter', 'viewer');

CREATE TABLE session_links (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  session_id uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  role share_role NOT NULL,
  token_hash text NOT NULL UNIQUE,
  expires_at timestamptz(3),
  max_uses integer,
  uses integer NOT NULL DEFAULT 0,
  created_by_id uuid REFERENCES users(id) ON DELETE SET NULL,
  revoked_at timestamptz(3),
  created_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX session_links_org_id_session_id_idx ON session_links(org_id, session_id);
CREATE INDEX session_links_session_id_idx ON session_links(session_id);
CREATE INDEX session_links_created_by_id_idx ON session_links(created_by_id);

-- A grant is an org member's role in a session (invited, or from a link they opened), or a link guest's
-- credential (no user; a hashed bearer secret scoped to the session).
CREATE TABLE session_grants (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  session_id uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  user_id uuid REFERENCES users(id) ON DELETE CASCADE,
  guest_name text,
  credential_hash text UNIQUE,
  role share_role NOT NULL,
  can_approve boolean NOT NULL DEFAULT false,
  link_id uuid REFERENCES session_links(id) ON DELETE CASCADE,
  created_by_id uuid REFERENCES users(id) ON DELETE SET NULL,
  revoked_at timestamptz(3),
  created_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX session_grants_org_id_session_id_idx ON session_grants(org_id, session_id);
CREATE INDEX session_grants_session_id_user_id_idx ON session_grants(session_id, user_id);
CREATE INDEX session_grants_user_id_idx ON session_grants(user_id);
CREATE INDEX session_grants_link_id_idx ON session_grants(link_id);
CREATE INDEX session_grants_created_by_id_idx ON session_grants(created_by_id);

CREATE TABLE comments (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  session_id uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  thread_id uuid REFERENCES comments(id) ON DELETE CASCADE,
  anchor jsonb,
  path text,
  author jsonb NOT NULL,
  body text NOT NULL,
  resolved_by jsonb,
  resolved_at timestamptz(3),
  created_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE INDEX comments_org_id_session_id_idx ON comments(org_id, session_id);
CREATE INDEX comments_session_id_path_idx ON comments(session_id, path);
CREATE INDEX comments_thread_id_idx ON comments(thread_id);
