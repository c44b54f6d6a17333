import { z } from 'zod';

/**
 * Canonical tool kinds. Adapters normalize each harness's native tool names to these; policies only ever
 * see canonical kinds. `mcp:<server>/<tool>` and `other:<native>` carry the native identity.
 */
export const BuiltinToolKind = z.enum([
  'shell',
  'file_read',
  'file_write',
  'file_edit',
  'file_list',
  'search',
  'web_fetch',
  'web_search',
  'agent',
]);
export type BuiltinToolKind = z.infer<typeof BuiltinToolKind>;

export const ToolKind = z.union([
  BuiltinToolKind,
  z.string().regex(/^mcp:[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'mcp:<server>/<tool>'),
  z.string().regex(/^other:.+$/, 'other:<native>'),
]);
export type ToolKind = z.infer<typeof ToolKind>;
