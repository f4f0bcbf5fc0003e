import { isDatabaseUnavailable } from './database-errors';

/** Shapes as Prisma 7 / adapter-pg / PGlite produce them (provoked for real in database-errors.int-spec.ts). */
const adapterError = (cause: object, code = 'P2010') => Object.assign(new Error('Raw query failed'), { code, meta: { driverAdapterError: { name: 'DriverAdapterError', cause } } });

describe('isDatabaseUnavailable', () => {
  it.each([
    ['a refused connection (model query)', adapterError({ kind: 'DatabaseNotReachable', host: '127.0.0.1', port: 1 }, 'P1001')],
    ['a refused connection (raw query)', adapterError({ kind: 'DatabaseNotReachable' })],
    ['a reset connection', adapterError({ kind: 'ConnectionClosed' })],
    ['a socket timeout', adapterError({ kind: 'SocketTimeout' })],
    ['too many connections', adapterError({ kind: 'TooManyConnections', cause: 'sorry, too many clients already' })],
    ['a terminated backend', adapterError({ kind: 'postgres', code: '57P01', severity: 'FATAL' })],
    ['a server starting up', adapterError({ kind: 'postgres', code: '57P03', severity: 'FATAL' })],
    ['a Prisma pool timeout', Object.assign(new Error('Timed out fetching a new connection'), { code: 'P2024' })],
    ['a Node socket error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE', syscall: 'write', errno: -32 })],
    ['a socket error as a cause', new Error('query failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) })],
    ['both addresses refused (AggregateError)', new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })], 'connect failed')],
    ["pg's dropped connection", new Error('Connection terminated unexpectedly')],
    ["pg-pool's connect timeout", new Error('timeout exceeded when trying to connect')],
    ['a closed PGlite', new Error('PGlite is closed')],
  ])('recognises %s', (_label, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', Object.assign(new Error('Unique constraint failed'), { code: 'P2002' })],
    ['a value out of range', adapterError({ kind: 'postgres', code: '22008', severity: 'ERROR' })],
    ['a missing database (configuration)', adapterError({ kind: 'DatabaseDoesNotExist', db: 'x' })],
    ['wrong credentials (configuration)', adapterError({ kind: 'AuthenticationFailed', user: 'x' })],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['a message that only mentions a connection', new Error('the user wrote: Connection terminated unexpectedly')],
    ['not an error at all', 'ECONNREFUSED'],
    ['nothing', undefined],
  ])('does not take %s for an outage', (_label, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });

  it('stops following a cycle of causes', () => {
    const a: Error & { cause?: unknown } = new Error('a');
    a.cause = a;
    expect(isDatabaseUnavailable(a)).toBe(false);
  });
});
