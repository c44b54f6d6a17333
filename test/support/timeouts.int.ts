// Integration tests talk to real Postgres/Redis: generous hook and test timeouts (conditions are awaited, never slept on).
jest.setTimeout(60_000);
