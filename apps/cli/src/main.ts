#!/usr/bin/env node
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { Command } from 'commander';
import type { AuditExportOptions } from './commands/audit-export';
import type { ChatOptions } from './commands/chat';
import type { UsageOptions } from './commands/usage';

/*
 * Each command's code is loaded when that command runs: loading all of them first (~920 modules, the local runner
 * alone ~740) cost every command about a second of CPU before it did anything, and held back the start of
 * `yoke start`'s server by as much (that command now loads the runner while its server boots).
 */
/* eslint-disable @typescript-eslint/no-require-imports */
const load = {
  attach: () => require('./commands/attach') as typeof import('./commands/attach'),
  auditExport: () => require('./commands/audit-export') as typeof import('./commands/audit-export'),
  auditVerify: () => require('./commands/audit-verify') as typeof import('./commands/audit-verify'),
  chat: () => require('./commands/chat') as typeof import('./commands/chat'),
  doctor: () => require('./commands/doctor') as typeof import('./commands/doctor'),
  keys: () => require('./commands/keys') as typeof import('./commands/keys'),
  login: () => require('./commands/login') as typeof import('./commands/login'),
  open: () => require('./commands/open') as typeof import('./commands/open'),
  policy: () => require('./commands/policy') as typeof import('./commands/policy'),
  run: () => require('./commands/run') as typeof import('./commands/run'),
  sandbox: () => require('./commands/sandbox') as typeof import('./commands/sandbox'),
  start: () => require('./commands/start') as typeof import('./commands/start'),
  usage: () => require('./commands/usage') as typeof import('./commands/usage'),
  runner: () => require('@yoke/runner') as typeof import('@yoke/runner'),
  pino: () => require('pino') as typeof import('pino'),
  modelKeys: () => require('./model-keys') as typeof import('./model-keys'),
  discovery: () => require('./server-discovery') as typeof import('./server-discovery'),
  apiClient: () => require('./api-client') as typeof import('./api-client'),
  protocol: () => require('@yoke/protocol') as typeof import('@yoke/protocol'),
};
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * `yoke start`'s process stays up for as long as Yoke runs, mostly idle (it holds the local runner): V8 grows its
 * young generation from 2 x 1 MB to 2 x 16 MB while the runner's modules load, and keeps it resident afterwards. Node
 * takes `--max-semi-space-size` only on its command line (set from here it has no effect: measured), but V8 reads its
 * growth factor whenever it would grow the young generation, so a factor of 1, set before the command's modules load,
 * keeps it at its first size. Measured with bench/memory (bench/README.md): about -10 MB at idle. Minor collections
 * are more frequent and shorter: during one start 55 of them, 306 ms in all (the longest 19 ms), against 11 taking
 * 384 ms (the longest 96 ms) with the default growth.
 */
function keepYoungGenerationSmall(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

const program = new Command('yoke')
  .description('One control plane over many coding-agent harnesses')
  .showHelpAfterError();

program
  .command('start')
  .description('run Yoke locally: server, embedded Postgres, web UI and a local runner on 127.0.0.1')
  .option('--port <port>', 'port to listen on (default: $PORT, else 7420)')
  .option('--home <dir>', 'data directory (default ~/.yoke)')
  .action((o: { port?: string; home?: string }) => {
    keepYoungGenerationSmall();
    return load.start().startCommand(o);
  });

program
  .command('open')
  .description('open the web UI of the local server `yoke start` runs, signed in (also prints its URL)')
  .option('--server <url>', 'which local server (default: the one running)')
  .action((o: { server?: string }) => {
    process.exitCode = load.open().openCommand(o);
  });

program
  .command('server')
  .description('run the server in team mode (DATABASE_URL, REDIS_URL)')
  .action(() => load.start().teamProcessCommand('server'));

program
  .command('worker')
  .description('run the background job worker in team mode (DATABASE_URL, REDIS_URL)')
  .action(() => load.start().teamProcessCommand('worker'));

program
  .command('chat', { isDefault: true })
  .description(
    'an interactive session in this terminal (also `yoke` alone): the agent given, else yoke.yaml or agent.yaml ' +
      'in this directory, else examples/helper.yaml',
  )
  .argument('[agent]', 'agent YAML file')
  .option('--resume <session>', 'continue an existing session instead of starting one')
  .option('--harness <name>', 'override the agent harness')
  .option('--model <name>', 'override the agent model')
  .option('--workspace <dir>', 'working directory on the runner (default: current directory)')
  .option('--server <url>', 'server URL (default: the one `yoke start` runs)')
  .action(async (agent: string | undefined, o: ChatOptions) => {
    process.exitCode = await load.chat().chatCommand(agent, o);
  });

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
  .option('--deltas', 'with --json, also print each streamed chunk as a {"delta": …} line, in screen order')
  .action(async (agent: string, prompt: string | undefined, o: Record<string, string | boolean>) => {
    process.exitCode = await load.run().runCommand(agent, prompt, o);
  });

program
  .command('attach')
  .description(
    'open a session in this terminal, interactive (read-only for a viewer); with --json or without a terminal, ' +
      'print it from its history onwards',
  )
  .argument('<session>', 'session id')
  .option('--server <url>', 'server URL')
  .option('--json', 'print one protocol item per line')
  .option('--deltas', 'with --json, also print each streamed chunk as a {"delta": …} line, in screen order')
  .action(async (session: string, o: { server?: string; json?: boolean; deltas?: boolean }) => {
    process.exitCode = await load.attach().attachCommand(session, o);
  });

program
  .command('approve')
  .description('answer an approval request of a session (approve, or --deny)')
  .argument('<session>', 'session id')
  .argument('<approval>', 'approval id (shown with the request)')
  .option('--deny', 'refuse instead of approving')
  .option('--server <url>', 'server URL')
  .action(async (session: string, approval: string, o: { deny?: boolean; server?: string }) => {
    process.exitCode = await load.policy().approveCommand(session, approval, o);
  });

const policy = program
  .command('policy')
  .description("the org's policies: apply, show, and test against recorded sessions");
policy
  .command('apply')
  .description("replace the org's policy set with FILE (org owners and admins)")
  .argument('<file>', 'policy YAML')
  .option('--expect-version <n>', 'refuse if the set changed since this version')
  .option('--server <url>', 'server URL')
  .action(async (file: string, o: { server?: string; expectVersion?: string }) => {
    process.exitCode = await load.policy().policyApplyCommand(file, o);
  });
policy
  .command('show')
  .description("print the org's policy YAML")
  .option('--server <url>', 'server URL')
  .action(async (o: { server?: string }) => {
    process.exitCode = await load.policy().policyShowCommand(o);
  });
policy
  .command('test')
  .description('dry-run: replay recorded sessions through FILE and report what it would allow, ask or deny')
  .argument('<file>', 'policy YAML')
  .requiredOption('--sessions <ids>', 'comma-separated session ids')
  .option('--json', 'print the report as JSON')
  .option('--server <url>', 'server URL')
  .action(async (file: string, o: { sessions: string; json?: boolean; server?: string }) => {
    process.exitCode = await load.policy().policyTestCommand(file, o);
  });

program
  .command('login')
  .description('sign this machine in to a Yoke server (approve the shown code in your browser)')
  .argument('<server>', 'server URL')
  .option('--read-only', 'ask for a read-only token')
  .action(async (server: string, o: { readOnly?: boolean }) => {
    process.exitCode = await load.login().loginCommand(server, o);
  });

program
  .command('logout')
  .description('revoke the token `yoke login` stored and forget it')
  .action(async () => {
    process.exitCode = await load.login().logoutCommand({});
  });

program
  .command('whoami')
  .description('who the server says you are, and in which org')
  .option('--server <url>', 'server URL')
  .option('--json', 'print JSON')
  .action(async (o: { server?: string; json?: boolean }) => {
    process.exitCode = await load.login().whoamiCommand(o);
  });

const tokens = program.command('tokens').description('your API tokens in the current org');
tokens
  .command('list')
  .option('--server <url>', 'server URL')
  .option('--json', 'print JSON')
  .action(async (o: { server?: string; json?: boolean }) => {
    process.exitCode = await load.login().tokensListCommand(o);
  });
tokens
  .command('revoke')
  .argument('<id>', 'token id')
  .option('--server <url>', 'server URL')
  .action(async (id: string, o: { server?: string }) => {
    process.exitCode = await load.login().tokensRevokeCommand(id, o);
  });

const keys = program
  .command('keys')
  .description('the model keys the local runner uses (a key in the environment of `yoke start` wins)');
keys
  .command('set')
  .description('store a key (asked without echo; read from stdin when it is not a terminal); no restart needed')
  .argument('<provider>', 'anthropic, openai or gemini')
  .option('--home <dir>', 'data directory (default ~/.yoke)')
  .action(async (provider: string, o: { home?: string }) => {
    process.exitCode = await load.keys().keysSetCommand(provider, o);
  });
keys
  .command('list')
  .description('which keys are set and where (never their values)')
  .option('--home <dir>', 'data directory (default ~/.yoke)')
  .option('--json', 'print JSON')
  .action((o: { home?: string; json?: boolean }) => {
    process.exitCode = load.keys().keysListCommand(o);
  });
keys
  .command('unset')
  .description('remove a stored key')
  .argument('<provider>', 'anthropic, openai or gemini')
  .option('--home <dir>', 'data directory (default ~/.yoke)')
  .action((provider: string, o: { home?: string }) => {
    process.exitCode = load.keys().keysUnsetCommand(provider, o);
  });

program
  .command('doctor')
  .description(
    'check what a turn needs: server, runner, model keys, sandbox, disk, harness CLIs (exit 1 if one is missing)',
  )
  .option('--server <url>', 'server URL (default: the one the CLI uses)')
  .option('--home <dir>', 'data directory (default ~/.yoke)')
  .option('--json', 'print JSON')
  .action(async (o: { server?: string; home?: string; json?: boolean }) => {
    process.exitCode = await load.doctor().doctorCommand(o);
  });

const collect = (value: string, previous: string[]): string[] => [...previous, value];
const sandbox = program.command('sandbox').description('Omnibox, the sandbox every harness runs in');
sandbox
  .command('check')
  .description('what of the sandbox works on this machine (bwrap, namespaces, seccomp, egress proxy)')
  .option('--json', 'machine-readable output')
  .action(async (o: { json?: boolean }) => {
    process.exitCode = await load.sandbox().sandboxCheckCommand(o);
  });
sandbox
  .command('run')
  .description('run a command in the sandbox, the current directory as its workspace: yoke sandbox run -- CMD [ARGS…]')
  .argument('<command...>')
  .option('--workspace <dir>', 'the writable workspace (default: the current directory)')
  .option('--allow <host>', 'a host the command may reach through the egress proxy (repeatable)', collect, [])
  .option('--env <name>', 'pass this variable of the current environment in (repeatable)', collect, [])
  .action(async (command: string[], o: { workspace?: string; allow: string[]; env: string[] }) => {
    process.exitCode = await load.sandbox().sandboxRunCommand(command, o);
  });

const audit = program.command('audit').description("the org's tamper-evident audit log");
audit
  .command('export')
  .description("export the org's audit log as one verifiable bundle (.tar.gz), with progress")
  .requiredOption('--out <file>', 'where to write the bundle')
  .option('--from <time>', 'events at or after this time (ISO 8601)')
  .option('--to <time>', 'events at or before this time (ISO 8601)')
  .option('--session <id>', "only this session's events")
  .option('--actor <id>', "only this actor's events (a user, token, runner or grant id)")
  .option('--format <format>', 'jsonl, csv or ocsf (the events are always in the bundle as JSON too)', 'jsonl')
  .option('--server <url>', 'server URL (default: the one you are logged in to, or the local one)')
  .option('--home <dir>', 'data directory of the local server (default ~/.yoke)')
  .action(async (o: AuditExportOptions) => {
    if (!['jsonl', 'csv', 'ocsf'].includes(o.format ?? 'jsonl')) {
      process.stderr.write('yoke audit export: --format is jsonl, csv or ocsf\n');
      process.exitCode = 2;
      return;
    }
    process.exitCode = await load.auditExport().auditExportCommand(o);
  });
audit
  .command('verify')
  .description(
    'check an audit bundle (.tar.gz from `yoke audit export`) offline: no server, no network; or, with --server ' +
      'and no FILE, the live log of your org against its latest checkpoint',
  )
  .argument('[file]', 'the bundle')
  .option('--key <vkey>', 'a checkpoint verifier key to trust: name+hash+key (repeatable)', collect, [])
  .option('--sha256 <hex>', "the bundle's published SHA-256, checked too")
  .option('--server <url>', 'check the live log of this server instead of a file')
  .option('--home <dir>', 'data directory of the local server (default ~/.yoke)')
  .option('--json', 'print the report as JSON')
  .action(
    async (
      file: string | undefined,
      o: { key: string[]; sha256?: string; server?: string; home?: string; json?: boolean },
    ) => {
      process.exitCode = await load.auditVerify().auditVerifyCommand(file, o);
    },
  );

program
  .command('usage')
  .description(
    'model calls and their cost, metered at the sandbox egress proxy: the org for owners, admins and auditors, ' +
      'your own for a member',
  )
  .option('--by <grouping>', 'user, model, harness, agent, session or day', 'day')
  .option('--from <time>', 'calls at or after this time (ISO 8601; default: the start of this UTC month)')
  .option('--to <time>', 'calls before this time (ISO 8601, exclusive; default: now)')
  .option('--json', 'print the report as JSON')
  .option('--csv', 'print CSV: a header row, then one line per group')
  .option('--server <url>', 'server URL (default: the one you are logged in to, or the local one)')
  .option('--home <dir>', 'data directory of the local server (default ~/.yoke)')
  .action(async (o: UsageOptions) => {
    process.exitCode = await load.usage().usageCommand(o);
  });

const runner = program.command('runner').description('run this machine as a runner for a Yoke server');
runner
  .command('enrol')
  .requiredOption('--server <url>', 'server URL')
  .requiredOption('--token <token>', 'one-time enrolment token from an admin')
  .option('--name <name>', 'runner name', hostname())
  .option('--home <dir>', 'runner data directory')
  .action(async (o: { server: string; token: string; name: string; home?: string }) => {
    const home = o.home ?? join(load.discovery().yokeHome(), 'runner');
    const id = await load.runner().enrol({ ...o, home });
    process.stdout.write(`enrolled runner ${id.runnerId} (${id.name}); credential stored in ${home}\n`);
  });
runner
  .command('rotate')
  .description('replace this runner credential with a new one (a running runner picks it up when it reconnects)')
  .option('--home <dir>', 'runner data directory')
  .action(async (o: { home?: string }) => {
    const home = o.home ?? join(load.discovery().yokeHome(), 'runner');
    const id = await load.runner().rotateCredential(home);
    process.stdout.write(`rotated the credential of runner ${id.runnerId}; stored in ${home}\n`);
  });
runner
  .command('start')
  .option('--home <dir>', 'runner data directory')
  .option('--allow-any-workspace', 'let sessions use any absolute path on this machine as workspace')
  .action((o: { home?: string; allowAnyWorkspace?: boolean }) => {
    const { yokeHome } = load.discovery();
    const { loadIdentity, Runner } = load.runner();
    const { missingKeyFix, runnerProvider } = load.modelKeys();
    const home = o.home ?? join(yokeHome(), 'runner');
    const identity = loadIdentity(home);
    if (!identity) throw new Error(`no runner identity in ${home}; run \`yoke runner enrol\` first`);
    // Model keys: this environment's, else the ones `yoke keys set` stored on this machine.
    const r = new Runner({
      home,
      identity,
      log: load.pino()(),
      allowAnyWorkspace: o.allowAnyWorkspace,
      provider: runnerProvider(yokeHome(), process.env),
      missingKeyFix: missingKeyFix(yokeHome(), yokeHome(), 'yoke runner start'),
    });
    r.start();
    process.once('SIGINT', () => void r.stop().then(() => process.exit(0)));
    process.once('SIGTERM', () => void r.stop().then(() => process.exit(0)));
  });

program.parseAsync().catch((err: unknown) => {
  const { ApiError } = load.apiClient();
  const message = err instanceof ApiError ? err.message : err instanceof Error ? err.message : String(err);
  process.stderr.write(`yoke: ${message}\n`);
  // Positioned problems (policy or agent YAML refused by the server): one line each, editor-clickable.
  const issues =
    (err instanceof ApiError ? (err.body?.details as { issues?: unknown } | undefined)?.issues : null) ?? [];
  if (Array.isArray(issues) && issues.length > 1) {
    for (const i of issues as { file?: string; line?: number; col?: number; path?: string; message?: string }[]) {
      process.stderr.write(`  ${i.file ?? ''}:${i.line ?? 0}:${i.col ?? 0} ${i.path ?? ''}: ${i.message ?? ''}\n`);
    }
  }
  // 2: the request or input was refused (bad YAML, 4xx); 1: anything else went wrong.
  process.exitCode = (err instanceof ApiError && err.status < 500) || load.protocol().isAppError(err) ? 2 : 1;
});
