// The admin API's response shapes the console reads (see /openapi.json; apps/api *.schemas.ts).

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Tenant {
  id: string;
  slug: string;
  name: string;
  status: 'active' | 'suspended';
  createdAt: string;
  updatedAt: string;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  status: 'active' | 'revoked' | 'expired';
  plugins: string[];
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
}

export interface IssuedApiKey {
  key: ApiKey;
  secret: string;
  urls: { sse: string; streamableHttp: string };
  clients: Record<string, unknown>;
}

export interface CatalogEntry {
  name: string;
  kind: 'plugin' | 'server-template';
  version: string;
  description: string;
  tools: { name: string; description: string }[];
  configSchema: Record<string, unknown>;
  secretFields: string[];
}

export interface PluginInstallation {
  plugin: string;
  enabled: boolean;
  config: Record<string, unknown>;
  secrets: Record<string, { set: boolean }>;
}
