import { z } from 'zod';
import { ApiError } from './api-error';
import { instantProblem } from './instant';

/**
 * Keyset (cursor) pagination over (createdAt, id): stable while rows are added or deleted,
 * unlike offsets. The cursor is opaque to clients: base64url of the last row's position.
 */

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/**
 * A count in a query string: decimal digits only (Number() would also take `1e2`, `0x10`, ` `),
 * then the range.
 */
export function countQuerySchema(max: number, fallback: number) {
  return z
    .string()
    .regex(/^[0-9]{1,9}$/, 'must be a whole number')
    .default(String(fallback))
    .transform(Number)
    .pipe(z.number().int().min(1).max(max));
}

export const pageQuerySchema = z
  .object({
    limit: countQuerySchema(MAX_PAGE_SIZE, DEFAULT_PAGE_SIZE),
    cursor: z.string().max(200).optional(),
  })
  .strict();

export type PageQuery = z.output<typeof pageQuerySchema>;

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` to get the next page; null on the last page. */
  nextCursor: string | null;
}

export interface CursorPosition {
  at: Date;
  id: string;
}

const cursorSchema = z.object({ at: z.iso.datetime(), id: z.uuid() }).strict();

export function encodeCursor(position: CursorPosition): string {
  return encodeJsonCursor({ at: position.at.toISOString(), id: position.id });
}

export function decodeCursor(cursor: string | undefined): CursorPosition | undefined {
  // A cursor comes back from the client: a forged position outside the storable range is refused, not sent to Postgres.
  const position = decodeJsonCursor(cursor, cursorSchema, (value) => instantProblem(value.at, { allowDate: false }) === undefined);
  return position && { at: new Date(position.at), id: position.id };
}

/** Any cursor's wire form: base64url of its JSON. Opaque to clients, and checked when it comes back. */
export function encodeJsonCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/**
 * A cursor the client sent back, read with `schema` (and `valid`, for rules a schema cannot say);
 * anything else is a 400 naming `cursor`, never a 500.
 */
export function decodeJsonCursor<S extends z.ZodType>(cursor: string | undefined, schema: S, valid: (value: z.output<S>) => boolean = () => true): z.output<S> | undefined {
  if (cursor === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    raw = undefined;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success || !valid(parsed.data)) throw ApiError.validation([{ path: 'cursor', message: 'not a cursor returned by this API' }]);
  return parsed.data;
}

/** Fetches limit+1 rows to know whether another page exists. */
export function toPage<Row, Item>(rows: Row[], limit: number, position: (row: Row) => CursorPosition, view: (row: Row) => Item): Page<Item> {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items: items.map(view), nextCursor: rows.length > limit && last ? encodeCursor(position(last)) : null };
}
