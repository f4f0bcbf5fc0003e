export { EmbeddedDatabases, openDatabase } from './database';
export { isDatabaseUnavailable } from './database-errors';
export type { Database, DatabaseKind, DatabaseOptions } from './database';
export { migrate, pendingMigrations, readMigrations, defaultMigrationsDir, MigrationError, MIGRATION_LOCK_KEY } from './migrator';
export type { MigrationFile, MigrationResult } from './migrator';
export type { SqlConnection } from './sql-connection';
export { PrismaClient, Prisma, TenantStatus, ServerMode, ServerTemplateKind } from './generated/prisma/client';
export type {
  Tenant,
  ApiKey,
  PluginInstallation,
  VirtualServer,
  ServerTemplate,
  AuditEvent,
  UsageRecord,
  UsageEventReceipt,
  Note,
  OAuthClient,
  OAuthGrant,
} from './generated/prisma/client';
