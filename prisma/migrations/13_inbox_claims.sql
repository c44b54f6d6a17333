-- A hand-over in flight (docs: queued prompts). The replica sending an inbox entry to its runner claims it first and
-- clears the claim when the runner acked (delivered_at) or did not answer; a withdrawal deletes only an unclaimed,
-- undelivered entry, so a prompt is never both withdrawn and delivered. A claim older than its lease is void: the
-- replica that made it died mid-send, and the entry is pending again.
ALTER TABLE inbox_entries ADD COLUMN claimed_at timestamptz(3);
