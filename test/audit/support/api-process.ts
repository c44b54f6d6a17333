import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export type ApiProcess = { url: string; close(): Promise<void> };

/** Starts the API in a child process (./api-child.ts) on an already migrated database; resolves once it listens. */
export async function startApiProcess(databaseUrl: string): Promise<ApiProcess> {
  const root = join(__dirname, '../../..');
  const child: ChildProcess = spawn(
    process.execPath,
    ['-r', join(root, 'test/support/register.js'), join(__dirname, 'api-child.ts')],
    {
      cwd: root,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, LOG_LEVEL: 'silent', YOKE_TEST_DATABASE_URL: databaseUrl },
    },
  );
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    void exited.then((code) => reject(new Error(`the API process exited (${code}):\n${stderr}`)));
  });
  return {
    url: (JSON.parse(line) as { url: string }).url,
    async close() {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
