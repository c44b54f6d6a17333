import { type PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { parseOr } from './validation';

/** Validates a REST body or query with its protocol schema (the same schema the clients use). */
export class ZodPipe<T extends z.ZodType> implements PipeTransform<unknown, z.infer<T>> {
  constructor(private readonly schema: T) {}

  transform(value: unknown): z.infer<T> {
    return parseOr(this.schema, value ?? {});
  }
}
