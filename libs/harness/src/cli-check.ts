import { resolveClaudeCommand } from './claude-code/adapter';
import { resolveCodexCommand } from './codex/adapter';
import { resolvePiCommand } from './pi/adapter';

export interface HarnessCliCheck {
  harness: 'claude-code' | 'codex' | 'pi';
  /** The npm package that brings the CLI. */
  package: string;
  ok: boolean;
  /** The command line found, or why there is none. */
  detail: string;
}

function probe(
  harness: HarnessCliCheck['harness'],
  pkg: string,
  resolve: () => { command: string; args: string[] },
): HarnessCliCheck {
  try {
    const { command, args } = resolve();
    return { harness, package: pkg, ok: true, detail: [command, ...args].join(' ') };
  } catch (err) {
    return { harness, package: pkg, ok: false, detail: (err as Error).message.split('\n')[0] };
  }
}

/**
 * Whether each harness built on a vendor's CLI finds that CLI installed here, as the runner would start it. The
 * `yoke` harness and the SDK-based ones are part of Yoke and need no check.
 */
export function checkHarnessClis(): HarnessCliCheck[] {
  return [
    probe('claude-code', '@anthropic-ai/claude-code', resolveClaudeCommand),
    probe('codex', '@openai/codex', resolveCodexCommand),
    probe('pi', '@mariozechner/pi-coding-agent', resolvePiCommand),
  ];
}
