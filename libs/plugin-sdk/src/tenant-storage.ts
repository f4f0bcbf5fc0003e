/**
 * Storage the platform binds to the tenant of the call and to the plugin being called, before
 * the plugin's code runs; undefined when the platform keeps no store for that plugin. The SDK
 * names no shape on purpose: the plugin that owns a kind of storage declares its interface in its
 * own module (plugins/notes/note-store.ts), and the gateway wires its implementation to that
 * plugin's name. Its API must take no tenant parameter, so a plugin cannot name another tenant;
 * and since it is bound per plugin, no plugin reads another plugin's data.
 */
export type TenantStorage = unknown;
