// End-to-end tests start real servers, runners and harness processes.
jest.setTimeout(180_000);
