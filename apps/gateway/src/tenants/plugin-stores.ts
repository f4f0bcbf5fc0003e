import type { PrismaClient } from '@switchboard/db';
import type { TenantStorage } from '@switchboard/plugin-sdk';
import { PrismaNoteStore } from './prisma-note-store';

/** Builds a plugin's `ctx.storage` for one tenant; the tenant is fixed here, never by the plugin. */
export type TenantStoreFactory = (tenantId: string) => TenantStorage;

/** The stores the platform keeps, each for the one plugin it belongs to, by plugin name. */
export type PluginStores = ReadonlyMap<string, TenantStoreFactory>;

/**
 * Storage kinds live in the platform's schema (prisma/), so their implementations live here and
 * their shapes in the plugin that uses them. A plugin not listed gets `ctx.storage` undefined.
 */
export function platformPluginStores(prisma: PrismaClient): PluginStores {
  return new Map<string, TenantStoreFactory>([['notes', (tenantId) => new PrismaNoteStore(prisma, tenantId)]]);
}
