import { AppError } from '@yoke/protocol';
import { z } from 'zod';

/** Validates data that crossed a wire; a failure is a typed `request.invalid` (or the given code) listing every issue. */
export function parseOr<T extends z.ZodType>(
  schema: T,
  input: unknown,
  code: 'request.invalid' | 'event.invalid' = 'request.invalid',
): z.infer<T> {
  const r = schema.safeParse(input);
  if (!r.success) {
    throw new AppError(code, z.prettifyError(r.error), {
      issues: r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    });
  }
  return r.data;
}
