import { dim } from './ansi';

/** What follows the text of an agent message its failed turn cut short (`agent_message.partial`). */
export const INCOMPLETE_MARK = '(incomplete: the turn failed here)';

/**
 * An agent message's rendered text, with the quiet (dim) incomplete mark on a line after it when the turn failed
 * before the message was finished: the text stays, as the runner kept it, but does not read as the agent's last word.
 */
export function withIncompleteMark(body: string, isPartial: boolean | undefined): string {
  if (!isPartial) return body;
  return `${body.replace(/\s+$/, '')}\n${dim(INCOMPLETE_MARK)}`;
}
