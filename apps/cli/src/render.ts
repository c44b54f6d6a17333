import type { Delta, Item } from '@yoke/protocol';

const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const red = (s: string) => (process.stdout.isTTY ? `\x1b[31m${s}\x1b[0m` : s);

/** Human rendering of a live session: text as it streams, tool calls and their results, usage, turn ends. */
export class TerminalRenderer {
  private streaming = new Set<string>();
  /** Answer streams being printed: their text is not cut by other lines. */
  private messages = new Set<string>();
  /** Items that arrived while an answer was streaming (a metered call ends before its text is all shown). */
  private deferred: Item[] = [];
  private spinner: NodeJS.Timeout | null = null;
  private frame = 0;

  constructor(private readonly out: NodeJS.WriteStream = process.stdout) {}

  delta(d: Delta): void {
    this.stopSpinner();
    if (d.type === 'agent_message_delta') {
      this.streaming.add(d.streamId);
      this.messages.add(d.streamId);
      this.out.write(d.text);
    } else if (d.type === 'command_output_delta') {
      this.streaming.add(d.streamId);
      this.out.write(dim(d.text));
    }
  }

  item(item: Item): void {
    const completesMessage = (item.type === 'agent_message' || item.type === 'reasoning') && !!item.streamId;
    const endsTurn = item.type === 'turn_completed' || item.type === 'turn_failed';
    if (this.messages.size > 0 && !completesMessage && !endsTurn) {
      this.deferred.push(item);
      return;
    }
    if (completesMessage && item.streamId) this.messages.delete(item.streamId);
    if (endsTurn) {
      // An answer cut short by the turn's end: its line ends before anything else is printed.
      if (this.messages.size > 0) this.out.write('\n');
      for (const id of this.messages) this.streaming.delete(id);
      this.messages.clear();
      this.flushDeferred();
    }
    this.print(item);
    if (this.messages.size === 0) this.flushDeferred();
  }

  private flushDeferred(): void {
    const deferred = this.deferred;
    this.deferred = [];
    deferred.forEach((d) => this.item(d));
  }

  private print(item: Item): void {
    this.stopSpinner();
    switch (item.type) {
      case 'turn_started':
        this.startSpinner();
        break;
      case 'user_message':
        this.out.write(
          `${bold(`${item.actor?.name ?? 'user'}>`)} ${item.content.map((c) => (c.type === 'text' ? c.text : `[${c.path}]`)).join(' ')}\n`,
        );
        this.startSpinner();
        break;
      case 'agent_message':
      case 'reasoning':
        if (item.streamId && this.streaming.delete(item.streamId)) this.out.write('\n');
        else if (item.type === 'agent_message') this.out.write(`${item.text}\n`);
        break;
      case 'tool_call':
        this.out.write(dim(`⚙ ${item.tool} ${summarize(item.input)}\n`));
        break;
      case 'command':
        if (![...this.streaming].length) this.out.write(dim(item.output ? `${item.output.trimEnd()}\n` : ''));
        this.streaming.clear();
        this.out.write(dim(`  exit ${item.exitCode ?? 'killed'}\n`));
        break;
      case 'tool_result':
        if (item.isError) this.out.write(red(`  ✗ ${item.output.slice(0, 500)}\n`));
        break;
      case 'file_change':
        this.out.write(dim(`  ✎ ${item.path}\n`));
        break;
      case 'usage':
        this.out.write(
          dim(`  ${item.model}: ${item.inputTokens} in / ${item.outputTokens} out, $${item.costUsd.toFixed(4)}\n`),
        );
        break;
      case 'metered_usage':
        this.out.write(
          dim(
            `  metered ${item.model}: ${item.inputTokens + item.cacheReadTokens + item.cacheWriteTokens} in / ` +
              `${item.outputTokens} out, $${(item.costMicros / 1_000_000).toFixed(4)}\n`,
          ),
        );
        break;
      case 'turn_completed':
        this.out.write(dim(`— turn ${item.stopReason === 'end_turn' ? 'completed' : item.stopReason}\n`));
        break;
      case 'turn_failed':
        this.out.write(red(`— turn failed: ${item.error}\n`));
        break;
      case 'notice':
        this.out.write(`${item.level === 'error' ? red('!') : '·'} ${item.text}\n`);
        break;
      case 'egress':
        // Refusals are worth a line; what was let through is in the session's record and the audit log.
        if (item.decision === 'denied') {
          this.out.write(
            red(
              `  ⛔ egress denied: ${item.method} ${item.host}:${item.port}${item.path ?? ''} (${item.code ?? 'denied'}: ${item.reason ?? ''})\n`,
            ),
          );
        }
        break;
      case 'policy_decision':
        // Allowed actions are the normal case; only refusals and asks are worth a line.
        if (item.verdict === 'deny') this.out.write(red(`  ⛔ ${item.reasons.join('; ') || 'denied by policy'}\n`));
        break;
      case 'approval_request':
        this.out.write(
          `${bold('? approval needed')} (${item.policy}): ${item.reason}\n` +
            dim(`  yoke approve ${item.sessionId} ${item.approvalId}   |   --deny to refuse\n`),
        );
        break;
      case 'approval_decision':
        this.out.write(dim(`  ${item.decision}${item.actor ? ` by ${item.actor.name}` : ''}\n`));
        break;
      default:
        this.out.write(dim(`${(item as Item).type}\n`));
    }
  }

  close(): void {
    this.stopSpinner();
  }

  private startSpinner(): void {
    if (!process.stderr.isTTY || this.spinner) return;
    const frames = '⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏';
    this.spinner = setInterval(() => process.stderr.write(`\r${frames[this.frame++ % frames.length]} `), 80);
  }

  private stopSpinner(): void {
    if (!this.spinner) return;
    clearInterval(this.spinner);
    this.spinner = null;
    process.stderr.write('\r  \r');
  }
}

function summarize(input: unknown): string {
  const text = JSON.stringify(input);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
