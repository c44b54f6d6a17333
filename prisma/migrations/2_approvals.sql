-- Approvals: one row per approval_request item, settled by the first decision (a human, or the runner's timeout).
CREATE TYPE approval_status AS ENUM ('pending', 'approved', 'denied', 'timed_out');

CREATE TABLE approvals (
  session_id uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  approval_id text NOT NULL,
  org_id uuid NOT NULL,
  call_id text,
  policy text NOT NULL,
  reason text NOT NULL,
  options jsonb NOT NULL,
  status approval_status NOT NULL DEFAULT 'pending',
  decided_by jsonb,
  decided_at timestamptz(3),
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (session_id, approval_id)
);
CREATE INDEX approvals_org_id_status_idx ON approvals(org_id, status);
