import { RequestMethod, type Type } from '@nestjs/common';
import type { INestApplicationContext } from '@nestjs/common';
import { MetadataScanner, ModulesContainer } from '@nestjs/core';
import { GUEST_ALLOWED } from '../../core/auth/guest-allowed';
import { ACCESS_RULE, type AccessRule } from '../../core/auth/access';
import { AUDIT_DECLARATION, type AuditDeclaration } from '../audit/audited';

// Nest's own metadata keys (@nestjs/common PATH_METADATA / METHOD_METADATA, @nestjs/websockets ones).
const PATH = 'path';
const METHOD = 'method';
const MESSAGE = 'message';
const GATEWAY_OPTIONS = 'websockets:gateway_options';
const GATEWAY = 'websockets:is_gateway';

export type RouteEntry = {
  kind: 'http';
  method: string;
  path: string;
  handler: string;
  rule: AccessRule | undefined;
  /** Marked @GuestAllowed: a share-link guest may call it (for its own session). */
  guestAllowed: boolean;
  /** @Audited / @NotAudited: the audit events it writes, or why none. */
  audit: AuditDeclaration | undefined;
};
export type EventEntry = {
  kind: 'socket';
  namespace: string;
  event: string;
  handler: string;
  rule: AccessRule | undefined;
  guestAllowed: boolean;
  audit: AuditDeclaration | undefined;
};

/**
 * Every REST route and socket event the app serves, with its @Allow rule: read from Nest's own metadata, so a
 * new route appears here (and in the authorization matrix test) without anyone listing it.
 */
export function routeTable(
  app: INestApplicationContext,
  opts: { prefix: string; unprefixed: string[] },
): { routes: RouteEntry[]; events: EventEntry[] } {
  const modules = app.get(ModulesContainer);
  const scanner = new MetadataScanner();
  const routes: RouteEntry[] = [];
  const events: EventEntry[] = [];
  const seen = new Set<unknown>();
  for (const mod of modules.values()) {
    for (const wrapper of mod.controllers.values()) {
      const type = wrapper.metatype as Type | null;
      if (!type || seen.has(type)) continue;
      seen.add(type);
      const bases = asArray(Reflect.getMetadata(PATH, type) as string | string[] | undefined);
      for (const name of scanner.getAllMethodNames(type.prototype as object)) {
        const fn = (type.prototype as Record<string, unknown>)[name] as object;
        const method = Reflect.getMetadata(METHOD, fn) as RequestMethod | undefined;
        const paths = Reflect.getMetadata(PATH, fn) as string | string[] | undefined;
        if (method === undefined || paths === undefined) continue;
        const rule = ruleOf(fn, type);
        for (const base of bases)
          for (const p of asArray(paths)) {
            routes.push({
              kind: 'http',
              method: RequestMethod[method],
              path: joinPath(base, p, opts),
              handler: `${type.name}.${name}`,
              rule,
              guestAllowed: guestAllowed(fn, type),
              audit: auditOf(fn, type),
            });
          }
      }
    }
    for (const wrapper of mod.providers.values()) {
      const type = wrapper.metatype as Type | null;
      if (!type || typeof type !== 'function' || seen.has(type) || !Reflect.getMetadata(GATEWAY, type)) continue;
      seen.add(type);
      const options = (Reflect.getMetadata(GATEWAY_OPTIONS, type) ?? {}) as { namespace?: string };
      for (const name of scanner.getAllMethodNames(type.prototype as object)) {
        const fn = (type.prototype as Record<string, unknown>)[name] as object;
        const event = Reflect.getMetadata(MESSAGE, fn) as string | undefined;
        if (event === undefined) continue;
        events.push({
          kind: 'socket',
          namespace: options.namespace ?? '/',
          event,
          handler: `${type.name}.${name}`,
          rule: ruleOf(fn, type),
          guestAllowed: guestAllowed(fn, type),
          audit: auditOf(fn, type),
        });
      }
    }
  }
  const key = (e: RouteEntry | EventEntry) =>
    e.kind === 'http' ? `${e.path} ${e.method}` : `${e.namespace} ${e.event}`;
  routes.sort((a, b) => key(a).localeCompare(key(b)));
  events.sort((a, b) => key(a).localeCompare(key(b)));
  return { routes, events };
}

/** Handlers that declare no rule: the guard refuses them, and the matrix test fails naming them. */
export function withoutRule(table: { routes: RouteEntry[]; events: EventEntry[] }): string[] {
  return [
    ...table.routes.filter((r) => !r.rule).map((r) => `${r.method} ${r.path} (${r.handler})`),
    ...table.events.filter((e) => !e.rule).map((e) => `${e.namespace} ${e.event} (${e.handler})`),
  ];
}

/** Handlers that declare neither the audit events they write nor why they write none: the matrix test names them. */
export function withoutAuditDeclaration(table: { routes: RouteEntry[]; events: EventEntry[] }): string[] {
  return [
    ...table.routes.filter((r) => !r.audit).map((r) => `${r.method} ${r.path} (${r.handler})`),
    ...table.events.filter((e) => !e.audit).map((e) => `${e.namespace} ${e.event} (${e.handler})`),
  ];
}

function auditOf(fn: object, type: Type): AuditDeclaration | undefined {
  return (Reflect.getMetadata(AUDIT_DECLARATION, fn) ?? Reflect.getMetadata(AUDIT_DECLARATION, type)) as
    AuditDeclaration | undefined;
}

function ruleOf(fn: object, type: Type): AccessRule | undefined {
  return (Reflect.getMetadata(ACCESS_RULE, fn) ?? Reflect.getMetadata(ACCESS_RULE, type)) as AccessRule | undefined;
}

function guestAllowed(fn: object, type: Type): boolean {
  return (Reflect.getMetadata(GUEST_ALLOWED, fn) ?? Reflect.getMetadata(GUEST_ALLOWED, type)) === true;
}

function asArray<T>(v: T | T[] | undefined): T[] {
  return v === undefined ? ['' as T] : Array.isArray(v) ? v : [v];
}

function joinPath(base: string, path: string, opts: { prefix: string; unprefixed: string[] }): string {
  const local = [base, path]
    .map((s) => s.replace(/^\/+|\/+$/g, ''))
    .filter(Boolean)
    .join('/');
  return opts.unprefixed.includes(local) ? `/${local}` : `/${opts.prefix}/${local}`.replace(/\/+$/, '');
}
