import {
  type Attributes,
  type Context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { redactText } from '@yoke/policy';
import { type Actor, type ItemBody, TraceParent } from '@yoke/protocol';

const tracer = trace.getTracer('yoke-runner');

/** The most of one content attribute a span carries (prompts, answers, tool input and output), redacted. */
const CONTENT_CHARS = 8_000;

export interface SessionTraceInfo {
  sessionId: string;
  orgId?: string;
  agent: string;
  harness: string;
  model: string | null;
  /** The org lets spans carry content (a `telemetry` policy with `content: true`). */
  content: boolean;
}

/**
 * One session's traces, following the OpenTelemetry GenAI conventions: each turn is an `invoke_agent` span (under
 * the request that sent its prompt, when the server passed its `traceparent`), with a `chat` span per model call
 * the egress proxy metered and an `execute_tool` span per tool call; policy decisions are events on the span they
 * decided about, approvals child spans from request to decision. The items of the session drive it: nothing here
 * changes what the session does. With tracing off, every span is the API's no-op one.
 */
export class SessionTrace {
  private turn: { id: string; span: Span; ctx: Context } | null = null;
  private readonly tools = new Map<string, { span: Span; ctx: Context }>();
  private readonly approvals = new Map<string, Span>();

  constructor(private readonly info: SessionTraceInfo) {}

  /** A turn starts: its span's parent is the prompt's `traceparent` when valid, else it starts a trace. */
  turnStarted(turnId: string, actor: Actor, traceparent: string | undefined): void {
    this.endTurn('the next turn started', true);
    const parent = TraceParent.safeParse(traceparent).success
      ? propagation.extract(ROOT_CONTEXT, { traceparent })
      : ROOT_CONTEXT;
    const span = tracer.startSpan(
      `invoke_agent ${this.info.agent}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          'gen_ai.operation.name': 'invoke_agent',
          'gen_ai.agent.name': this.info.agent,
          'gen_ai.conversation.id': this.info.sessionId,
          ...(this.info.model ? { 'gen_ai.request.model': this.info.model } : {}),
          'yoke.session.id': this.info.sessionId,
          'yoke.turn.id': turnId,
          'yoke.harness': this.info.harness,
          'yoke.actor.id': actor.id,
          ...(this.info.orgId ? { 'yoke.org.id': this.info.orgId } : {}),
        },
      },
      parent,
    );
    this.turn = { id: turnId, span, ctx: trace.setSpan(parent, span) };
  }

  /** The running turn's trace context, for what the runner sends while it runs (its items). */
  get traceparent(): string | undefined {
    return this.turn ? traceparentOf(this.turn.ctx) : undefined;
  }

  /** The trace context of a tool call's span (a `delegate` call: the child session is traced under it). */
  toolTraceparent(callId: string): string | undefined {
    const tool = this.toolSpan(callId);
    return tool ? traceparentOf(tool.ctx) : undefined;
  }

  /** Each item the session records, in order. */
  observe(body: ItemBody, actor: Actor | undefined): void {
    if (!this.turn) return;
    switch (body.type) {
      case 'user_message':
        if (this.info.content) {
          const text = body.content.map((p) => (p.type === 'text' ? p.text : `[file ${p.path}]`)).join('\n');
          this.turn.span.setAttribute('gen_ai.input.messages', clip(JSON.stringify([{ role: 'user', content: text }])));
        }
        break;
      case 'agent_message':
        if (this.info.content) {
          this.turn.span.setAttribute(
            'gen_ai.output.messages',
            clip(JSON.stringify([{ role: 'assistant', content: body.text }])),
          );
        }
        break;
      case 'metered_usage':
        this.modelCall(body);
        break;
      case 'tool_call': {
        const tool = this.toolSpan(body.callId, body.nativeTool, true)!;
        tool.span.updateName(`execute_tool ${body.nativeTool}`);
        tool.span.setAttributes({ 'gen_ai.tool.name': body.nativeTool, 'yoke.tool.kind': body.tool });
        if (this.info.content && body.input !== undefined) {
          tool.span.setAttribute('gen_ai.tool.call.arguments', clip(JSON.stringify(body.input)));
        }
        if (body.status === 'denied' || body.status === 'failed') this.endTool(body.callId, body.status);
        break;
      }
      case 'tool_result': {
        const tool = this.tools.get(body.callId);
        if (tool && this.info.content) tool.span.setAttribute('gen_ai.tool.call.result', clip(body.output));
        this.endTool(body.callId, body.isError ? 'failed' : 'completed');
        break;
      }
      case 'policy_decision': {
        const on = body.callId ? this.toolSpan(body.callId, undefined, true)!.span : this.turn.span;
        const attrs: Attributes = {
          'yoke.policy.verdict': body.verdict,
          'yoke.policy.action': body.action ?? (body.callId ? 'tool_call' : 'prompt'),
          'yoke.policy.policies': body.policies,
        };
        if (this.info.content) attrs['yoke.policy.reasons'] = body.reasons.map((r) => clip(r));
        on.addEvent('yoke.policy.decision', attrs);
        if (body.verdict === 'deny' && body.callId) {
          on.setStatus({ code: SpanStatusCode.ERROR, message: 'denied by policy' });
        }
        break;
      }
      case 'approval_request': {
        const parent = body.callId ? this.toolSpan(body.callId, undefined, true)!.ctx : this.turn.ctx;
        const span = tracer.startSpan(
          'yoke.approval',
          {
            attributes: {
              'yoke.approval.id': body.approvalId,
              'yoke.approval.subject': body.subject ?? (body.callId ? 'tool_call' : 'prompt'),
              'yoke.policy.policies': body.policy,
              ...(body.callId ? { 'gen_ai.tool.call.id': body.callId } : {}),
            },
          },
          parent,
        );
        this.approvals.set(body.approvalId, span);
        break;
      }
      case 'approval_decision': {
        const span = this.approvals.get(body.approvalId);
        if (!span) break;
        this.approvals.delete(body.approvalId);
        span.setAttributes({
          'yoke.approval.decision': body.decision,
          ...(actor ? { 'yoke.approval.by': actor.id } : {}),
        });
        if (body.decision !== 'approve' && body.decision !== 'approve_session')
          span.setStatus({ code: SpanStatusCode.ERROR, message: body.decision });
        span.end();
        break;
      }
      case 'usage':
        this.turn.span.addEvent('yoke.usage.reported', {
          'gen_ai.response.model': body.model,
          'gen_ai.usage.input_tokens': body.inputTokens,
          'gen_ai.usage.output_tokens': body.outputTokens,
          'yoke.cost.reported_usd': body.costUsd,
        });
        break;
      case 'turn_completed':
        this.turn.span.setAttribute('yoke.turn.stop_reason', body.stopReason);
        this.endTurn(null, false);
        break;
      case 'turn_failed':
        this.endTurn(this.info.content ? clip(body.error, 500) : 'the turn failed', true);
        break;
      default:
        break;
    }
  }

  /** Ends what is still open (the session closes). */
  close(): void {
    this.endTurn('the session closed', true);
  }

  private modelCall(body: Extract<ItemBody, { type: 'metered_usage' }>): void {
    const span = tracer.startSpan(
      `chat ${body.model}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'gen_ai.operation.name': 'chat',
          'gen_ai.provider.name': body.provider === 'anthropic' ? 'anthropic' : 'openai',
          'gen_ai.request.model': body.model,
          'gen_ai.response.model': body.model,
          'gen_ai.usage.input_tokens': body.inputTokens + body.cacheReadTokens + body.cacheWriteTokens,
          'gen_ai.usage.output_tokens': body.outputTokens,
          'gen_ai.usage.cache_read.input_tokens': body.cacheReadTokens,
          'gen_ai.usage.cache_creation.input_tokens': body.cacheWriteTokens,
          ...(body.requestId ? { 'gen_ai.response.id': body.requestId } : {}),
          'server.address': body.host,
          'yoke.api': body.api,
          'yoke.cost.micros': body.costMicros,
          'yoke.price_version': body.priceVersion,
        },
      },
      this.turn!.ctx,
    );
    span.end();
  }

  /** The span of a tool call, started the first time anything about the call is seen (a decision may come first). */
  private toolSpan(callId: string, name?: string, create = false): { span: Span; ctx: Context } | undefined {
    const open = this.tools.get(callId);
    if (open || !create || !this.turn) return open;
    const span = tracer.startSpan(
      `execute_tool${name ? ` ${name}` : ''}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          'gen_ai.operation.name': 'execute_tool',
          'gen_ai.tool.call.id': callId,
          'gen_ai.tool.type': 'function',
          'yoke.session.id': this.info.sessionId,
          'yoke.turn.id': this.turn.id,
        },
      },
      this.turn.ctx,
    );
    const tool = { span, ctx: trace.setSpan(this.turn.ctx, span) };
    this.tools.set(callId, tool);
    return tool;
  }

  private endTool(callId: string, status: 'completed' | 'failed' | 'denied'): void {
    const tool = this.tools.get(callId);
    if (!tool) return;
    this.tools.delete(callId);
    tool.span.setAttribute('yoke.tool.status', status);
    if (status !== 'completed') tool.span.setStatus({ code: SpanStatusCode.ERROR, message: status });
    tool.span.end();
  }

  private endTurn(error: string | null, failed: boolean): void {
    if (!this.turn) return;
    for (const [id, span] of this.approvals) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'the turn ended first' });
      span.end();
      this.approvals.delete(id);
    }
    for (const callId of [...this.tools.keys()]) this.endTool(callId, 'failed');
    if (failed) this.turn.span.setStatus({ code: SpanStatusCode.ERROR, ...(error ? { message: error } : {}) });
    this.turn.span.end();
    this.turn = null;
  }
}

function traceparentOf(ctx: Context): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent;
}

function clip(text: string, max = CONTENT_CHARS): string {
  return redactText(text, max);
}
