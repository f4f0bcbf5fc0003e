/**
 * Tells a database outage apart from a bug. Both reach the caller as an exception from Prisma,
 * but an outage deserves a 503 with Retry-After (the request was fine, try again), a bug a 500.
 *
 * The shapes below were provoked against the real stack (adapter-pg over pg, PGlite), see
 * database-errors.int-spec.ts:
 * - server refuses connections: PrismaClientKnownRequestError P1001 (model queries) or P2010
 *   (raw queries) with `meta.driverAdapterError.cause.kind = 'DatabaseNotReachable'`;
 * - connection dropped during a query: a plain Error from pg, "Connection terminated unexpectedly";
 * - backend terminated (restart, failover): `cause.kind = 'postgres'`, `code = '57P01'`;
 * - PGlite closed under a running request: a plain Error, "PGlite is closed".
 * Configuration faults (unknown database, wrong password) are not outages: they stay 500s so
 * that they are logged as errors and fixed rather than retried.
 */

/** Node socket errors of a connection that cannot be made or was lost. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

/**
 * SQLSTATEs of a server that is going away or full: admin_shutdown, crash_shutdown,
 * cannot_connect_now (starting up, recovery), idle_session_timeout, too_many_connections, and
 * class 08 (connection exception).
 */
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '57P05', '53300', '08000', '08001', '08003', '08004', '08006']);

/**
 * Prisma's connection-level codes: can't reach server, connect timed out, operation timed out,
 * server closed the connection, no connection from the pool in time.
 */
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);

/** DriverAdapterError kinds (@prisma/driver-adapter-utils) that mean the connection, not the query. */
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);

/** pg, pg-pool and PGlite throw these as plain Errors without a code. */
const MESSAGES = [
  /^Connection terminated unexpectedly$/,
  /^Connection terminated due to connection timeout$/,
  /^timeout exceeded when trying to connect$/,
  /^Client has encountered a connection error and is not queryable$/,
  /^Cannot use a pool after calling end on the pool$/,
  /^PGlite is closed$/,
];

/** How deep to follow `cause`, `meta.driverAdapterError` and AggregateError members. */
const MAX_DEPTH = 6;

/** True when `error` says the database is unreachable or went away, rather than that the query was wrong. */
export function isDatabaseUnavailable(error: unknown): boolean {
  return matches(error, 0);
}

function matches(value: unknown, depth: number): boolean {
  if (depth > MAX_DEPTH || typeof value !== 'object' || value === null) return false;
  const error = value as Record<string, unknown>;
  const code = typeof error['code'] === 'string' ? error['code'] : undefined;
  if (code !== undefined && (SOCKET_CODES.has(code) || SQLSTATES.has(code) || PRISMA_CODES.has(code))) return true;
  if (typeof error['kind'] === 'string' && ADAPTER_KINDS.has(error['kind'])) return true;
  if (typeof error['message'] === 'string' && MESSAGES.some((pattern) => pattern.test(error['message'] as string))) return true;
  const meta = error['meta'];
  const nested = [
    error['cause'],
    typeof meta === 'object' && meta !== null ? (meta as Record<string, unknown>)['driverAdapterError'] : undefined,
    ...(Array.isArray(error['errors']) ? (error['errors'] as unknown[]) : []),
  ];
  return nested.some((next) => matches(next, depth + 1));
}
