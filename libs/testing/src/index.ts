export { createTestDatabase, createMigratedDatabase, createTempDataDir } from './databases';
export type { TestDatabase } from './databases';
export { testAdminDatabaseUrl, testRedisUrl } from './test-env';
export { node22Binary, NODE_22_VERSION } from './node22';
export { eventually } from './eventually';
export { freePort, waitForHttp, connectMcpClient } from './network';
export { firstText } from './mcp-results';
export type { McpTransportName, WaitForHttpOptions } from './network';
export { startTcpProxy } from './tcp-proxy';
export type { TcpProxy } from './tcp-proxy';
export { launchBrowser, accessibilityProblems, CHROMIUM_PATH } from './browser';
// The usage queue's name, for browser tests that plant a failed job (the console may use only the test utilities).
export { USAGE_QUEUE_NAME } from '@switchboard/metering';
export { startApiProcess, API_MAIN } from './api-process';
export type { ApiProcess } from './api-process';
export { startMiniOidcProvider } from './mini-oidc-provider';
export type { MiniOidcProvider, TestUser } from './mini-oidc-provider';
