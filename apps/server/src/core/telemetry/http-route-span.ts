import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import type { Observable } from 'rxjs';

/**
 * Names the HTTP server span of a REST call after its route (`POST /api/v1/sessions/:id/messages`) once Nest has
 * matched it, so a trace reads as the product's operations, not as bare methods. A no-op when tracing is off.
 */
@Injectable()
export class HttpRouteSpan implements NestInterceptor {
  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const span = ctx.getType() === 'http' ? trace.getActiveSpan() : undefined;
    if (span?.isRecording()) {
      const req = ctx.switchToHttp().getRequest<{ method?: string; baseUrl?: string; route?: { path?: unknown } }>();
      const path = typeof req.route?.path === 'string' ? `${req.baseUrl ?? ''}${req.route.path}` : null;
      if (path) {
        span.setAttribute('http.route', path);
        span.updateName(`${req.method ?? 'HTTP'} ${path}`);
      }
    }
    return next.handle();
  }
}
