/**
 * Jest globalSetup of every project: the run gets an empty HOME of its own. Login shells that tests start (`bash -l`)
 * read the machine's profile otherwise, which is not under test: a version manager there can rehash under a file lock
 * on every shell, and a test that kills such a shell mid-rehash leaves the lock behind, so every later shell of the run
 * waits a minute for it. Product code never relies on the user's HOME in tests: homes are passed explicitly.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function useTestHome(): void {
  if (process.env.YOKE_TEST_HOME) return; // another project's setup already ran in this Jest process
  const home = mkdtempSync(join(tmpdir(), 'yoke-test-home-'));
  process.env.YOKE_TEST_HOME = home;
  process.env.HOME = home;
}
