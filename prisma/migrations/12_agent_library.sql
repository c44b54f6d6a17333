-- The org's agent library (docs/agents.md, "Agent library"): agents kept on the server. An agent's name is unique in
-- its org; every change is a new, immutable version holding the YAML as written and the spec it parsed to.
CREATE TABLE agents (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  -- The `name:` of the latest version.
  name text NOT NULL,
  latest_version integer NOT NULL CHECK (latest_version > 0),
  created_by uuid,
  updated_by uuid,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz(3) NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX agents_org_id_name_key ON agents(org_id, name);

CREATE TABLE agent_versions (
  agent_id uuid NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
  org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  version integer NOT NULL CHECK (version > 0),
  yaml text NOT NULL,
  -- The parsed AgentSpec (libs/protocol), validated before it is written.
  spec jsonb NOT NULL,
  created_by uuid,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (agent_id, version)
);
CREATE INDEX agent_versions_org_id_idx ON agent_versions(org_id);
