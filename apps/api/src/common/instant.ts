import { z } from 'zod';

/**
 * Instants clients send (usage ranges, key expiry, cursors), validated to what can be stored and
 * means something: a real calendar date (no 2026-02-31, which Date.parse turns into March 3) and
 * within [MIN_INSTANT, MAX_INSTANT]. Postgres has no year 0 and Prisma writes years past 9999 as
 * `+010000-…`, which it cannot parse: outside this range a query would fail as a 500.
 */
export const MIN_INSTANT = new Date('1970-01-01T00:00:00.000Z');
export const MAX_INSTANT = new Date('9999-12-31T23:59:59.999Z');

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-](\d{2}):(\d{2})))?$/;
/** Real zones span -12:00 to +14:00; RFC 3339 allows any offset below 24 h, we allow what exists. */
const MAX_OFFSET_MINUTES = 14 * 60;

export interface InstantOptions {
  /** Also accept a bare date (`2026-11-01`, midnight UTC); otherwise a date-time with its zone is required. */
  allowDate: boolean;
}

/** Why `value` is not an acceptable instant, or undefined when it is. */
export function instantProblem(value: string, options: InstantOptions): string | undefined {
  const form = options.allowDate ? 'an ISO 8601 date or date-time with zone, e.g. 2026-11-01 or 2026-11-01T00:00:00Z' : 'an ISO 8601 date-time with zone, e.g. 2026-11-01T00:00:00Z';
  const match = DATE_TIME.exec(value);
  if (!match || (!options.allowDate && match[4] === undefined)) return `must be ${form}`;
  const [year, month, day, hour = 0, minute = 0, second = 0] = match.slice(1, 7).map((part) => (part === undefined ? undefined : Number(part))) as number[];
  const calendar = new Date(Date.UTC(year!, month! - 1, day!));
  // Date.UTC maps years 0-99 to 1900-1999; such years are out of range anyway, checked below.
  if (month! < 1 || month! > 12 || calendar.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) return `must be ${form} (not a real date or time)`;
  if (match[8] !== undefined && (Number(match[9]) > 59 || Number(match[8]) * 60 + Number(match[9]) > MAX_OFFSET_MINUTES)) return `must be ${form} (zone offset out of range)`;
  const at = Date.parse(value);
  if (Number.isNaN(at) || at < MIN_INSTANT.getTime() || at > MAX_INSTANT.getTime()) {
    return `must be between ${MIN_INSTANT.toISOString()} and ${MAX_INSTANT.toISOString()}`;
  }
  return undefined;
}

/** A zod string that must be an acceptable instant (kept as the string the client sent). */
export function instantStringSchema(options: InstantOptions) {
  return z.string().superRefine((value, ctx) => {
    const problem = instantProblem(value, options);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
}

/** The same, parsed to a Date. */
export function instantSchema(options: InstantOptions) {
  return instantStringSchema(options).transform((value) => new Date(value));
}
