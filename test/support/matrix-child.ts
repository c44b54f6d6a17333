import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { MatrixApp } from './matrix-app';

export type MatrixChild = { app: MatrixApp; close(): Promise<void> };

/**
 * Starts the API with its seeded callers in a child process (test/support/matrix-app.ts); resolves with what it
 * printed. Nest 12 is ES modules only, which Node loads through require(esm) but Jest's module runtime does not.
 */
export async function startMatrixApp(args: string[] = []): Promise<MatrixChild> {
  const root = join(__dirname, '../..');
  const child: ChildProcess = spawn(
    process.execPath,
    ['-r', join(root, 'test/support/register.js'), join(root, 'test/support/matrix-app.ts'), ...args],
    { cwd: root, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'silent' } },
  );
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    void exited.then((code) => reject(new Error(`the matrix app exited (${code}):\n${stderr}`)));
  });
  return {
    app: JSON.parse(line) as MatrixApp,
    async close() {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
