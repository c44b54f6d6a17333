import { AppError } from '@yoke/protocol';
import type { HarnessAdapter } from './adapter';
import { YokeHarnessAdapter } from './yoke/adapter';

/** The adapter for a harness name (`agent.harness`). Only the built-in `yoke` harness ships so far. */
export function createHarnessAdapter(name: string): HarnessAdapter {
  if (name === 'yoke') return new YokeHarnessAdapter();
  throw new AppError('agent.invalid', `harness ${name} is not available on this runner yet`);
}
