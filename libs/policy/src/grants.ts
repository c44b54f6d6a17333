import { MAX_GRANT_KEY } from './state';
import type { PolicyAction } from './types';
import { ActionView } from './view';

/**
 * What an "always allow in this session" approval (`approve_session`) covers: the same kind of action, and nothing
 * broader. A shell call matches on its exact command line (as the harness gave it: no prefix, no normalization, so
 * `git push` does not cover `git push --force` nor `git push; rm -rf ~`); a tool call naming paths on its tool and the
 * exact same paths; any other tool call on its tool kind alone (`mcp:<server>/<tool>` names one MCP tool). Prompts and
 * usage reports are never granted. Null when the action cannot be granted (not a tool call, an unreadable shell input,
 * or a key longer than MAX_GRANT_KEY).
 */
export function grantKey(action: PolicyAction | ActionView): string | null {
  const view = action instanceof ActionView ? action : new ActionView(action);
  if (!view.isToolCall) return null;
  let key: string;
  if (view.isShell) {
    const command = view.command;
    if (command === null || command.trim() === '') return null;
    key = JSON.stringify([view.tool, command]);
  } else if (view.paths.length > 0) {
    key = JSON.stringify([view.tool, [...new Set(view.paths)].sort()]);
  } else {
    key = JSON.stringify([view.tool]);
  }
  return key.length > MAX_GRANT_KEY ? null : key;
}
