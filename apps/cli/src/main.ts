#!/usr/bin/env node
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import pino from 'pino';
import { isAppError } from '@yoke/protocol';
import { enrol, loadIdentity, Runner } from '@yoke/runner';
import { ApiError } from './api-client';
import { attachCommand } from './commands/attach';
import { runCommand } from './commands/run';
import { startCommand, teamProcessCommand } from './commands/start';
import { yokeHome } from './server-discovery';

const program = new Command('yoke')
  .description('One control plane over many coding-agent harnesses')
  .showHelpAfterError();

program
  .command('start')
  .description('run Yoke locally: server, embedded Postgres, web UI and a local runner on 127.0.0.1')
  .option('--port <port>', 'port to listen on', '7420')
  .option('--home <dir>', 'data directory (default ~/.yoke)')
  .action((o: { port?: string; home?: string }) => startCommand(o));

program
  .command('server')
  .description('run the server in team mode (DATABASE_URL, REDIS_URL)')
  .action(() => teamProcessCommand('server'));

program
  .command('worker')
  .description('run the background job worker in team mode (DATABASE_URL, REDIS_URL)')
  .action(() => teamProcessCommand('worker'));

program
  .command('run')
  .description('start a session from an agent YAML and stream its first turn')
  .argument('<agent>', 'agent YAML file')
  .argument('[prompt]', 'the first message')
  .option('--server <url>', 'server URL (default: the one `yoke start` runs)')
  .option('--harness <name>', 'override the agent harness')
  .option('--model <name>', 'override the agent model')
  .option('--workspace <dir>', 'working directory on the runner (default: current directory)')
  .option('--json', 'print one protocol item per line')
  .action(async (agent: string, prompt: string | undefined, o: Record<string, string | boolean>) => {
    process.exitCode = await runCommand(agent, prompt, o);
  });

program
  .command('attach')
  .description('follow a session from its history onwards')
  .argument('<session>', 'session id')
  .option('--server <url>', 'server URL')
  .option('--json', 'print one protocol item per line')
  .action(async (session: string, o: { server?: string; json?: boolean }) => {
    process.exitCode = await attachCommand(session, o);
  });

const runner = program.command('runner').description('run this machine as a runner for a Yoke server');
runner
  .command('enrol')
  .requiredOption('--server <url>', 'server URL')
  .requiredOption('--token <token>', 'one-time enrolment token from an admin')
  .option('--name <name>', 'runner name', hostname())
  .option('--home <dir>', 'runner data directory')
  .action(async (o: { server: string; token: string; name: string; home?: string }) => {
    const home = o.home ?? join(yokeHome(), 'runner');
    const id = await enrol({ ...o, home });
    process.stdout.write(`enrolled runner ${id.runnerId} (${id.name}); credential stored in ${home}\n`);
  });
runner
  .command('start')
  .option('--home <dir>', 'runner data directory')
  .option('--allow-any-workspace', 'let sessions use any absolute path on this machine as workspace')
  .action((o: { home?: string; allowAnyWorkspace?: boolean }) => {
    const home = o.home ?? join(yokeHome(), 'runner');
    const identity = loadIdentity(home);
    if (!identity) throw new Error(`no runner identity in ${home}; run \`yoke runner enrol\` first`);
    const r = new Runner({ home, identity, log: pino(), allowAnyWorkspace: o.allowAnyWorkspace });
    r.start();
    process.once('SIGINT', () => void r.stop().then(() => process.exit(0)));
    process.once('SIGTERM', () => void r.stop().then(() => process.exit(0)));
  });

program.parseAsync().catch((err: unknown) => {
  const message = err instanceof ApiError ? err.message : err instanceof Error ? err.message : String(err);
  process.stderr.write(`yoke: ${message}\n`);
  // 2: the request or input was refused (bad YAML, 4xx); 1: anything else went wrong.
  process.exitCode = (err instanceof ApiError && err.status < 500) || isAppError(err) ? 2 : 1;
});
