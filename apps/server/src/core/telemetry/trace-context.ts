import { context, propagation, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { TraceParent } from '@yoke/protocol';

const tracer = trace.getTracer('yoke-server');

/**
 * The W3C `traceparent` of the span this code runs in, to hand to the runner with an input (a prompt, a delegated
 * task) so the turn it starts is traced under it. Undefined when tracing is off or nothing is traced here.
 */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return TraceParent.safeParse(carrier.traceparent).success ? carrier.traceparent : undefined;
}

/** `{ traceparent }` to spread into an input, or nothing. */
export function traceField(): { traceparent?: string } {
  const tp = currentTraceparent();
  return tp ? { traceparent: tp } : {};
}

/**
 * Runs a socket event's handler in a server span whose parent is the sender's span (the payload's `traceparent`,
 * when it carries a valid one), so what the handler does in Postgres and Redis joins the sender's trace.
 */
export function inEventSpan<T>(
  name: string,
  payload: unknown,
  attributes: Record<string, string>,
  fn: () => Promise<T>,
): Promise<T> {
  const raw =
    typeof payload === 'object' && payload !== null ? (payload as { traceparent?: unknown }).traceparent : null;
  const parent = TraceParent.safeParse(raw).success
    ? propagation.extract(context.active(), { traceparent: raw as string })
    : context.active();
  return tracer.startActiveSpan(name, { kind: SpanKind.SERVER, attributes }, parent, async (span: Span) => {
    try {
      return await fn();
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}
