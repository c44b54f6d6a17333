import { hostname } from 'node:os';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { enrol, loadIdentity } from './identity';
import { Runner } from './runner';

const USAGE = `usage:
  yoke-runner enrol --server URL --token TOKEN [--name NAME] [--home DIR]
  yoke-runner start [--home DIR] [--allow-any-workspace]`;

/** The runner as its own process (`yoke runner start` runs the same code in the CLI process). */
async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      server: { type: 'string' },
      token: { type: 'string' },
      name: { type: 'string' },
      home: { type: 'string' },
      'allow-any-workspace': { type: 'boolean', default: false },
    },
  });
  const home = values.home ?? process.env.YOKE_RUNNER_HOME ?? join(homedir(), '.yoke', 'runner');
  const log = pino({ level: process.env.LOG_LEVEL ?? 'info', redact: ['credential', 'token'] });
  if (command === 'enrol') {
    if (!values.server || !values.token) throw new Error(USAGE);
    const id = await enrol({ server: values.server, token: values.token, name: values.name ?? hostname(), home });
    log.info({ runnerId: id.runnerId, home }, 'runner enrolled');
    return;
  }
  if (command === 'start') {
    const identity = loadIdentity(home);
    if (!identity) throw new Error(`no runner identity in ${home}; run \`yoke runner enrol\` first`);
    const runner = new Runner({ home, identity, log, allowAnyWorkspace: values['allow-any-workspace'] });
    runner.start();
    const stop = () => void runner.stop().then(() => process.exit(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    return;
  }
  throw new Error(USAGE);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  pino().fatal({ err }, err instanceof Error ? err.message : 'runner failed');
  process.exit(1);
});
