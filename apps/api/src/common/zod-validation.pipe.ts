import type { PipeTransform } from '@nestjs/common';
import type { z } from 'zod';
import { ApiError, type FieldIssue } from './api-error';

/** Deepest nesting accepted in a request body; admin payloads are shallow. */
const MAX_DEPTH = 32;

/** Validates a body or query with a zod schema; failures become 400 with dotted field paths. */
export class ZodValidationPipe<S extends z.ZodType> implements PipeTransform<unknown, z.output<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown): z.output<S> {
    const unstorable = findUnstorable(value, []);
    if (unstorable) throw ApiError.validation([unstorable]);
    const result = this.schema.safeParse(value);
    if (!result.success) throw ApiError.validation(zodIssues(result.error));
    return result.data;
  }
}

/** Flattens zod issues to `{ path, message }`; each unknown field gets its own issue and path. */
export function zodIssues(error: z.ZodError, prefix: readonly PropertyKey[] = []): FieldIssue[] {
  return error.issues.flatMap((issue) => {
    const base = [...prefix, ...issue.path].map(String);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...base, key].join('.'), message: 'unknown field' }));
    }
    return [{ path: base.join('.'), message: issue.message }];
  });
}

/**
 * Postgres cannot store U+0000 in text or jsonb and would answer with an error (a 500), and very
 * deep JSON is never a real admin payload: both are refused up front as client mistakes.
 */
function findUnstorable(value: unknown, path: string[]): FieldIssue | undefined {
  if (path.length > MAX_DEPTH) return { path: path.join('.'), message: 'nested too deeply' };
  if (typeof value === 'string') return value.includes('\u0000') ? { path: path.join('.'), message: 'must not contain NUL characters' } : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, child] of Object.entries(value)) {
    if (key.includes('\u0000')) return { path: path.join('.'), message: 'field names must not contain NUL characters' };
    const found = findUnstorable(child, [...path, key]);
    if (found) return found;
  }
  return undefined;
}
