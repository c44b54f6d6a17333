import { hostMain } from '../host/host-process';
import { AcpClientLoop } from './client-loop';

/** The host process of an `acp:<command>` session: the ACP client, with the agent command as its arguments. */
if (require.main === module) {
  const command = process.argv.slice(2);
  hostMain(async (ctx) => {
    if (command.length === 0) throw new Error('no ACP agent command given');
    return AcpClientLoop.start(ctx, command);
  });
}
