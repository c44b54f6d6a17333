-- Usage reports at scale (docs/governance.md, "How totals tie out"): the metered calls summed per UTC day and per
-- (user, session, agent, harness, model), kept by triggers in the statement that inserts or deletes the calls, so the
-- rollup is exactly the sum of `metered_usage` in every transaction, whatever writes the calls. A report reads the
-- whole days of its range here and its partial edge days from `metered_usage`.
CREATE TABLE usage_daily (
  org_id uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
  day date NOT NULL,
  user_id uuid NOT NULL,
  session_id uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  agent text NOT NULL,
  harness text NOT NULL,
  model text NOT NULL,
  calls bigint NOT NULL,
  input_tokens bigint NOT NULL,
  output_tokens bigint NOT NULL,
  cache_read_tokens bigint NOT NULL,
  cache_write_tokens bigint NOT NULL,
  cost_micros bigint NOT NULL,
  PRIMARY KEY (org_id, day, user_id, session_id, agent, harness, model)
);

CREATE FUNCTION usage_daily_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO usage_daily AS d (org_id, day, user_id, session_id, agent, harness, model, calls, input_tokens,
    output_tokens, cache_read_tokens, cache_write_tokens, cost_micros)
  SELECT org_id, (at AT TIME ZONE 'UTC')::date, user_id, session_id, agent, harness, model, count(*),
    sum(input_tokens), sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens), sum(cost_micros)
  FROM new_calls GROUP BY 1, 2, 3, 4, 5, 6, 7
  ON CONFLICT (org_id, day, user_id, session_id, agent, harness, model) DO UPDATE SET
    calls = d.calls + EXCLUDED.calls,
    input_tokens = d.input_tokens + EXCLUDED.input_tokens,
    output_tokens = d.output_tokens + EXCLUDED.output_tokens,
    cache_read_tokens = d.cache_read_tokens + EXCLUDED.cache_read_tokens,
    cache_write_tokens = d.cache_write_tokens + EXCLUDED.cache_write_tokens,
    cost_micros = d.cost_micros + EXCLUDED.cost_micros;
  RETURN NULL;
END $$;

CREATE FUNCTION usage_daily_remove() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE usage_daily d SET
    calls = d.calls - o.calls,
    input_tokens = d.input_tokens - o.input_tokens,
    output_tokens = d.output_tokens - o.output_tokens,
    cache_read_tokens = d.cache_read_tokens - o.cache_read_tokens,
    cache_write_tokens = d.cache_write_tokens - o.cache_write_tokens,
    cost_micros = d.cost_micros - o.cost_micros
  FROM (
    SELECT org_id, (at AT TIME ZONE 'UTC')::date AS day, user_id, session_id, agent, harness, model, count(*) AS calls,
      sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens, sum(cache_read_tokens) AS cache_read_tokens,
      sum(cache_write_tokens) AS cache_write_tokens, sum(cost_micros) AS cost_micros
    FROM old_calls GROUP BY 1, 2, 3, 4, 5, 6, 7
  ) o
  WHERE d.org_id = o.org_id AND d.day = o.day AND d.user_id = o.user_id AND d.session_id = o.session_id
    AND d.agent = o.agent AND d.harness = o.harness AND d.model = o.model;
  DELETE FROM usage_daily d
  USING (
    SELECT DISTINCT org_id, (at AT TIME ZONE 'UTC')::date AS day, user_id, session_id, agent, harness, model
    FROM old_calls
  ) o
  WHERE d.org_id = o.org_id AND d.day = o.day AND d.user_id = o.user_id AND d.session_id = o.session_id
    AND d.agent = o.agent AND d.harness = o.harness AND d.model = o.model AND d.calls <= 0;
  RETURN NULL;
END $$;

CREATE TRIGGER metered_usage_daily_add AFTER INSERT ON metered_usage
  REFERENCING NEW TABLE AS new_calls FOR EACH STATEMENT EXECUTE FUNCTION usage_daily_add();
CREATE TRIGGER metered_usage_daily_remove AFTER DELETE ON metered_usage
  REFERENCING OLD TABLE AS old_calls FOR EACH STATEMENT EXECUTE FUNCTION usage_daily_remove();
-- Metered calls are facts: a change to one would leave the rollup behind.
CREATE FUNCTION metered_usage_refuse_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'metered usage is append-only';
END $$;
CREATE TRIGGER metered_usage_no_update BEFORE UPDATE ON metered_usage
  FOR EACH ROW EXECUTE FUNCTION metered_usage_refuse_update();

INSERT INTO usage_daily (org_id, day, user_id, session_id, agent, harness, model, calls, input_tokens, output_tokens,
  cache_read_tokens, cache_write_tokens, cost_micros)
SELECT org_id, (at AT TIME ZONE 'UTC')::date, user_id, session_id, agent, harness, model, count(*), sum(input_tokens),
  sum(output_tokens), sum(cache_read_tokens), sum(cache_write_tokens), sum(cost_micros)
FROM metered_usage GROUP BY 1, 2, 3, 4, 5, 6, 7;
