-- Metered usage (docs/governance.md): one row per model API call as the sandbox's egress proxy read it from the
-- provider's response, stored with the session item that carried it (same transaction). Costs are integer
-- micro-dollars; reports sum these rows, so every total ties out to the calls.
CREATE TABLE metered_usage (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  session_id uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  item_seq integer NOT NULL,
  turn_id text,
  -- Whose spend this is: the author of the turn's prompt, else the session's owner.
  user_id uuid NOT NULL,
  agent text NOT NULL,
  harness text NOT NULL,
  provider text NOT NULL,
  api text NOT NULL,
  host text NOT NULL,
  model text NOT NULL,
  input_tokens bigint NOT NULL,
  output_tokens bigint NOT NULL,
  cache_read_tokens bigint NOT NULL,
  cache_write_tokens bigint NOT NULL,
  reasoning_tokens bigint NOT NULL,
  cost_micros bigint NOT NULL CHECK (cost_micros >= 0),
  price_version text NOT NULL,
  request_id text,
  at timestamptz(3) NOT NULL,
  UNIQUE (session_id, item_seq)
);
CREATE INDEX metered_usage_org_id_at_idx ON metered_usage(org_id, at);
CREATE INDEX metered_usage_org_id_user_id_at_idx ON metered_usage(org_id, user_id, at);
