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
  limits: LimitOverrides;
  createdAt: string;
  updatedAt: string;
}

export interface ApiKey {
  id: string;
  name: string;
  prefix: string;
  status: 'active' | 'revoked' | 'expired';
  plugins: string[];
  /** Namespaced tools (`installation__tool`) the key may see and call; empty = every tool of its plugins. */
  tools: string[];
  /** Virtual servers the key is restricted to (admitted on their URLs only); empty = every URL of the tenant. */
  virtualServers?: string[];
  limits: LimitOverrides;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  createdAt: string;
  /** The key this one replaced by rotation. */
  rotatedFromId: string | null;
}

export type LimitName = 'requestsPerMinute' | 'toolCallsPerMinute' | 'concurrentSessions' | 'concurrentToolCalls' | 'monthlyToolCalls';
/** Absent: inherits (key → tenant → platform default); null: no limit at this level. */
export type LimitOverrides = Partial<Record<LimitName, number | null>>;

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
  /** Unique per tenant (default: the plugin's own): its tool namespace, its URL, what keys list. */
  name: string;
  /** The plugin (or server template) installed; one plugin may be installed under several names. */
  plugin: string;
  enabled: boolean;
  config: Record<string, unknown>;
  secrets: Record<string, { set: boolean }>;
}

export interface LiveSession {
  sessionId: string;
  node: string;
  transport: 'sse' | 'streamable-http';
  keyId: string;
  subject?: string;
  plugin?: string;
  openedAt: string;
  lastActivityAt: string;
}

export interface AuditEvent {
  id: string;
  at: string;
  actor: string;
  action: string;
  targetType: string;
  targetId: string | null;
  tenantId: string | null;
  details: unknown;
}

export interface UsageCounts {
  calls: number;
  errors: number;
  totalDurationMs: number;
  bytesIn: number;
  bytesOut: number;
}

export type UsageGroupBy = 'plugin' | 'tool' | 'key' | 'subject' | 'hour';

export interface UsageReport {
  tenantId: string;
  from: string;
  to: string;
  groupBy: UsageGroupBy;
  totals: UsageCounts;
  groups: (UsageCounts & { group: string })[];
  /** With `interval`: each group's counts per hour or day that had calls (`at`: the bucket's start). */
  series?: (UsageCounts & { group: string; at: string })[];
}

export interface OAuthSettings {
  dynamicRegistration: boolean;
  accessTokenTtlSeconds: number;
  metadataDocumentHosts: string[];
  /** Single sign-on; shown, not edited here. */
  sso: { issuer: string } | null;
}

export interface OAuthClient {
  id: string;
  kind: 'dynamic' | 'metadata_document' | 'registered';
  tenantId: string | null;
  name: string;
  clientUri: string | null;
  redirectUris: string[];
  tokenEndpointAuth: string;
  activeGrants: number;
  createdAt: string;
}

/** The answer to registering a client: a confidential client's secret, shown once (null for public clients). */
export interface RegisteredOAuthClient {
  client: OAuthClient & { tokenEndpointAuth: 'none' | 'client_secret_basic' | 'client_secret_post' };
  clientSecret: string | null;
}

export interface OAuthGrant {
  id: string;
  clientId: string;
  clientName: string;
  keyId: string | null;
  subject: string;
  email: string | null;
  scopes: string[];
  resource: string;
  status: 'active' | 'revoked';
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  revokedReason: string | null;
}

export type ClusterMode = 'cluster' | 'embedded';

export interface PlatformSession extends LiveSession {
  tenantId: string;
  tenantSlug: string;
}

export interface PlatformSessionPage {
  mode: ClusterMode;
  items: PlatformSession[];
  nextCursor: string | null;
  total: number;
}

export interface ClusterNode {
  node: string;
  health: 'up' | 'silent';
  heartbeatExpiresInMs: number | null;
  sessions: number;
  sessionsByTransport: { 'streamable-http': number; sse: number };
  tenants: number;
}

export interface FailedUsageJob {
  id: string;
  failedReason: string;
  attemptsMade: number;
  queuedAt: string;
  failedAt: string | null;
}

export interface FailedUsageJobs {
  mode: 'embedded' | 'bullmq';
  items: FailedUsageJob[];
  total: number;
  nextOffset: number | null;
}

export interface EnvDeclaration {
  name: string;
  description?: string;
  required: boolean;
  secret: boolean;
  /** Fixed by the platform for every tenant; `{home}` is the installation's private directory. */
  value?: string;
}

export interface ServerTemplate {
  name: string;
  kind: 'stdio';
  description: string;
  command: string;
  args: string[];
  env: EnvDeclaration[];
  defaultMode: 'isolated' | 'shared';
  installations: number;
  createdAt: string;
  updatedAt: string;
}

/** One tool of a virtual server: `source` as the tenant-wide URL names it (`installation__tool`), `name` what its clients call it. */
export interface VirtualTool {
  source: string;
  name: string;
  /** Shown to clients instead of the source tool's own description. */
  description?: string;
}

/** A curated endpoint of a tenant: `/t/{tenant}/v/{name}/mcp` (and `/sse`) on the gateway. */
export interface VirtualServer {
  name: string;
  description: string;
  tools: VirtualTool[];
  /** On the gateway (PUBLIC_GATEWAY_URL). */
  urls: { streamableHttp: string; sse: string };
  createdAt: string;
  updatedAt: string;
}

/** A remote-mcp installation's upstream OAuth account (shared mode); never token material. */
export interface UpstreamConnection {
  installation: string;
  status: 'not_connected' | 'pending' | 'connected' | 'needs_reconnect';
  connectedAt: string | null;
  /** When the current access token expires; the platform refreshes it before. */
  expiresAt: string | null;
  /** Why the credential needs reconnecting. */
  lastError: string | null;
}

/** One person's upstream account of a per-user installation (`GET …/upstream-connection/people`); never token material. */
export interface PersonalConnection extends Omit<UpstreamConnection, 'installation'> {
  /** The person: their OAuth grant's subject, `key:<API key id>` or `sso:<issuer>#<sub>`. */
  subject: string;
}

/** A connect under way: the browser opens `connectUrl` on the gateway (single use) before `expiresAt`. */
export interface StartedConnection {
  connectUrl: string;
  expiresAt: string;
}

/** One tool of a tenant's installations (`GET /v1/tenants/{t}/tools`), named as the gateway names it. */
export interface TenantTool {
  /** `installation__tool`: what key allowlists and virtual servers name. */
  name: string;
  installation: string;
  tool: string;
  title?: string;
  description?: string;
  /** `declared` by the plugin (or a per-user installation's config); `listed` by an upstream or hosted server when a gateway last built the tenant's tools. */
  origin: 'declared' | 'listed';
  /** For `listed`: when a gateway recorded this list (unchanged since). */
  listedAt?: string;
}
