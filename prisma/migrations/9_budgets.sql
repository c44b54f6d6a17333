-- Monthly budgets (docs/governance.md, "Budgets"): a cap in integer micro-dollars on what the org, one user or one
-- agent spends in a UTC calendar month, counted from metered calls.
CREATE TABLE budgets (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  -- 'org' | 'user' | 'agent'
  scope text NOT NULL CHECK (scope IN ('org', 'user', 'agent')),
  -- The user's id or the agent's name; '' for the org's budget.
  target text NOT NULL,
  cap_micros bigint NOT NULL CHECK (cap_micros > 0),
  -- Percent thresholds of the cap (1..100), sorted.
  alert_at integer[] NOT NULL,
  created_by uuid,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz(3) NOT NULL DEFAULT now(),
  CHECK ((scope = 'org') = (target = ''))
);
CREATE UNIQUE INDEX budgets_org_id_scope_target_key ON budgets(org_id, scope, target);

-- What each month's metered calls add up to, per org, per user and per agent: kept in the transaction that stores the
-- calls (same rows, same month), so checking a budget reads one row instead of summing a month of calls.
CREATE TABLE usage_month_totals (
  org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  -- The first day of the UTC month.
  month date NOT NULL,
  scope text NOT NULL CHECK (scope IN ('org', 'user', 'agent')),
  target text NOT NULL,
  cost_micros bigint NOT NULL CHECK (cost_micros >= 0),
  PRIMARY KEY (org_id, month, scope, target)
);

-- Each threshold of a budget alerts once per month.
CREATE TABLE budget_alerts (
  org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  budget_id uuid NOT NULL REFERENCES budgets(id) ON DELETE CASCADE,
  month date NOT NULL,
  threshold integer NOT NULL,
  at timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (org_id, budget_id, month, threshold)
);
CREATE INDEX budget_alerts_budget_id_idx ON budget_alerts(budget_id);
