export { createTestDatabase, createMigratedDatabase, createTempDataDir } from './databases';
export type { TestDatabase } from './databases';
export { testAdminDatabaseUrl, testRedisUrl } from './test-env';
export { node22Binary, NODE_22_VERSION } from './node22';
export { eventually } from './eventually';
export { freePort, waitForHttp, connectMcpClient } from './network';
export type { McpTransportName, WaitForHttpOptions } from './network';
export { startTcpProxy } from './tcp-proxy';
export type { TcpProxy } from './tcp-proxy';
