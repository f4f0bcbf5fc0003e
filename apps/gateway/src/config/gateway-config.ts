import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import {
  booleanFlag,
  clusterRedis,
  commaList,
  configuredKeys,
  logLevel,
  metricsPort,
  parseEnv,
  platformEnvSchema,
  type Env,
} from '@switchboard/config';
import type { ConfiguredSecrets } from '@switchboard/secrets';
import { TENANT_TOKEN_MAX_TTL_SECONDS } from '@switchboard/api-keys';
import { LIMITER_REDIS_OPTIONS, limitDefaultsEnvSchema, limitDefaultsFromEnv, type Limits, type LimiterFailureMode } from '@switchboard/limits';
import { DEFAULT_GATEWAY_METRICS_PORT } from '@switchboard/metrics';
import { DEFAULT_USAGE_FLUSH_INTERVAL_MS } from '@switchboard/metering';

/** The MCP SDK's own default (sseKeepAlive.ts): proxies commonly drop streams idle for 30-60 s. */
export const DEFAULT_SSE_KEEP_ALIVE_MS = 15_000;
/** A session with no request for this long is closed; clients re-initialize. */
export const DEFAULT_SESSION_IDLE_TIMEOUT_MS = 30 * 60_000;
export const DEFAULT_MAX_SESSIONS_PER_NODE = 20_000;
export const DEFAULT_TOOL_TIMEOUT_MS = 60_000;
/** The MCP SDK's MAXIMUM_MESSAGE_SIZE. */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
/**
 * How long a node waits for the owner of a session to start answering a forwarded request
 * (the head of its response, or the ack of a legacy-SSE message) before answering 504. The
 * owner answers in about a millisecond; only a stalled owner process reaches this.
 */
export const DEFAULT_FORWARD_TIMEOUT_MS = 10_000;

/** A tenant may have this many JSON-RPC requests in progress on one node: its share of the event loop. */
export const DEFAULT_MAX_IN_PROGRESS_PER_TENANT = 200;
/**
 * A tenant may hold this many `subscriptions/listen` streams open on one node. They last as long
 * as their clients, so they are counted apart from requests in progress, never holding a slot.
 */
export const DEFAULT_MAX_LISTENERS_PER_TENANT = 100;
/**
 * A session whose client leaves this many bytes of answers unread is closed. Several answers of
 * the largest size a client may send us (MAX_BODY_BYTES, 4 MiB) fit; a reader that stopped does not.
 */
export const DEFAULT_MAX_BUFFERED_BYTES = 16 * 1024 * 1024;
/** A client has this long to send its request headers (slow-header clients are cut; Node's default is 60 s). */
export const DEFAULT_HTTP_HEADERS_TIMEOUT_MS = 10_000;
/** ... and this long for the whole request, body included (Node's default is 300 s). */
export const DEFAULT_HTTP_REQUEST_TIMEOUT_MS = 30_000;
/**
 * An idle keep-alive connection is closed after this long (Fastify's default is 72 s). A balancer
 * that pools connections to the gateways closes its idle ones sooner, or retries (HAProxy does).
 */
export const DEFAULT_HTTP_KEEP_ALIVE_TIMEOUT_MS = 10_000;

/** How long a client may take to answer an InputRequiredResult before its retry is refused (the spec sets no bound). */
export const DEFAULT_REQUEST_STATE_TTL_MS = 10 * 60_000;

/** The platform authorization server (docs/oauth.md). */
export const DEFAULT_OAUTH_ACCESS_TOKEN_TTL_SECONDS = 600;
export const DEFAULT_OAUTH_REFRESH_TOKEN_TTL_SECONDS = 30 * 86_400;
export const DEFAULT_OAUTH_REGISTRATIONS_PER_HOUR = 20;

/** The service name spans carry unless OTEL_SERVICE_NAME says otherwise. */
export const DEFAULT_OTEL_SERVICE_NAME = 'switchboard-gateway';

const positiveMs = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** Hosted MCP servers (server templates): child processes per node and per tenant, idle stop. */
export const DEFAULT_HOSTED_MAX_PER_NODE = 50;
export const DEFAULT_HOSTED_MAX_PER_TENANT = 10;
export const DEFAULT_HOSTED_IDLE_TIMEOUT_MS = 10 * 60_000;
export const DEFAULT_HOSTED_START_TIMEOUT_MS = 30_000;
export const HOSTED_RESTART_BACKOFF = { initialMs: 500, maxMs: 30_000 };

/** `10.0.0.0/8,127.0.0.1/32`: ranges plugins may reach despite the SSRF guard (empty by default). */
const cidrList = commaList.refine(
  (list) => list.every((cidr) => /^[0-9a-fA-F:.]+\/\d{1,3}$/.test(cidr) && isIP(cidr.split('/')[0]) !== 0),
  'comma-separated CIDR ranges, e.g. 10.1.0.0/16',
);

/** The platform's shared variables (libs/config) and the gateway's own. */
const gatewayEnvSchema = platformEnvSchema.extend({
  FORWARD_TIMEOUT_MS: positiveMs(DEFAULT_FORWARD_TIMEOUT_MS),
  /** Longest `exp - iat` of an accepted tenant token; above mint's maximum would only admit tokens the API never makes. */
  TENANT_TOKEN_MAX_LIFETIME_SECONDS: z.coerce.number().int().min(1).max(TENANT_TOKEN_MAX_TTL_SECONDS).default(TENANT_TOKEN_MAX_TTL_SECONDS),
  /** How long a 2026-07-28 client may take to answer an InputRequiredResult (its requestState's lifetime). */
  REQUEST_STATE_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(DEFAULT_REQUEST_STATE_TTL_MS / 1000),
  ALLOWED_ORIGINS: commaList,
  SSE_KEEPALIVE_MS: positiveMs(DEFAULT_SSE_KEEP_ALIVE_MS),
  SESSION_IDLE_TIMEOUT_MS: positiveMs(DEFAULT_SESSION_IDLE_TIMEOUT_MS),
  MAX_SESSIONS_PER_NODE: z.coerce.number().int().positive().default(DEFAULT_MAX_SESSIONS_PER_NODE),
  TOOL_TIMEOUT_MS: positiveMs(DEFAULT_TOOL_TIMEOUT_MS),
  MAX_BODY_BYTES: z.coerce.number().int().positive().default(DEFAULT_MAX_BODY_BYTES),
  HTTP_HEADERS_TIMEOUT_MS: positiveMs(DEFAULT_HTTP_HEADERS_TIMEOUT_MS),
  HTTP_REQUEST_TIMEOUT_MS: positiveMs(DEFAULT_HTTP_REQUEST_TIMEOUT_MS),
  HTTP_KEEP_ALIVE_TIMEOUT_MS: positiveMs(DEFAULT_HTTP_KEEP_ALIVE_TIMEOUT_MS),
  MAX_IN_PROGRESS_PER_TENANT: z.coerce.number().int().positive().default(DEFAULT_MAX_IN_PROGRESS_PER_TENANT),
  MAX_LISTENERS_PER_TENANT: z.coerce.number().int().positive().default(DEFAULT_MAX_LISTENERS_PER_TENANT),
  SESSION_MAX_BUFFERED_BYTES: z.coerce.number().int().positive().default(DEFAULT_MAX_BUFFERED_BYTES),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(DEFAULT_SHUTDOWN_GRACE_MS),
  /** Without SECRETS_KEY / KEY_PEPPER, generate them into DATA_DIR (embedded mode only). */
  GENERATE_SECRETS: booleanFlag(true),
  ...limitDefaultsEnvSchema.shape,
  LIMITS_FAILURE_MODE: z.enum(['open', 'closed']).default('open'),
  /** Per-minute windows and the quota admitted from node-local blocks leased from Redis (docs/limits-and-metering.md). */
  LIMITS_LEASES: booleanFlag(true),
  /** A limits check Redis has not answered in this long fails (open or closed, by LIMITS_FAILURE_MODE). */
  LIMITS_COMMAND_TIMEOUT_MS: positiveMs(LIMITER_REDIS_OPTIONS.commandTimeout),
  /** Cluster mode: how long a usage event waits for others to join its BullMQ job (0: no wait). */
  USAGE_FLUSH_INTERVAL_MS: z.coerce.number().int().min(0).max(10_000).default(DEFAULT_USAGE_FLUSH_INTERVAL_MS),
  GATEWAY_METRICS_PORT: metricsPort(DEFAULT_GATEWAY_METRICS_PORT),
  GATEWAY_METRICS_HOST: z.string().optional(),
  HOSTED_MAX_PER_NODE: z.coerce.number().int().positive().default(DEFAULT_HOSTED_MAX_PER_NODE),
  HOSTED_MAX_PER_TENANT: z.coerce.number().int().positive().default(DEFAULT_HOSTED_MAX_PER_TENANT),
  HOSTED_IDLE_TIMEOUT_MS: positiveMs(DEFAULT_HOSTED_IDLE_TIMEOUT_MS),
  HOSTED_START_TIMEOUT_MS: positiveMs(DEFAULT_HOSTED_START_TIMEOUT_MS),
  OUTBOUND_ALLOW_CIDRS: cidrList,
  /** Lifetime of the authorization server's access tokens; a tenant's `oauth.accessTokenTtlSeconds` overrides it. */
  OAUTH_ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(86_400).default(DEFAULT_OAUTH_ACCESS_TOKEN_TTL_SECONDS),
  OAUTH_REFRESH_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).default(DEFAULT_OAUTH_REFRESH_TOKEN_TTL_SECONDS),
  /** Dynamic client registrations one source address may make per hour, per node. */
  OAUTH_REGISTRATIONS_PER_HOUR: z.coerce.number().int().positive().default(DEFAULT_OAUTH_REGISTRATIONS_PER_HOUR),
  /** OpenTelemetry's standard variables: tracing is on when an endpoint is set (docs/operations.md). */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().url().optional(),
  /** The exporter speaks OTLP/HTTP with JSON bodies; any OTLP/HTTP receiver accepts both. */
  OTEL_EXPORTER_OTLP_PROTOCOL: z.enum(['http/json']).optional(),
  OTEL_EXPORTER_OTLP_HEADERS: z.string().optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default(DEFAULT_OTEL_SERVICE_NAME),
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
});

export interface GatewayConfig {
  nodeId: string;
  http: {
    host: string;
    port: number;
    publicUrl: string | undefined;
    allowedOrigins: string[];
    maxBodyBytes: number;
    timeouts: { headersMs: number; requestMs: number; keepAliveMs: number };
  };
  database: { url: string | undefined; dataDir: string };
  /** Cluster mode when set: sessions recorded in Redis, requests forwarded to the owner node. */
  cluster: { redisUrl: string; secret: Buffer; prefix: string; forwardTimeoutMs: number } | undefined;
  secrets: ConfiguredSecrets;
  auth: { tenantTokenMaxLifetimeSeconds: number; requestStateTtlMs: number };
  oauth: { accessTokenTtlSeconds: number; refreshTokenTtlSeconds: number; registrationsPerHour: number };
  logLevel: z.output<typeof logLevel>;
  plugins: { dir: string | undefined; packages: string[]; defaultTimeoutMs: number };
  sessions: {
    keepAliveMs: number;
    idleTimeoutMs: number;
    maxPerNode: number;
    shutdownGraceMs: number;
    /** A tenant's JSON-RPC requests in progress on this node, at most. */
    maxInProgressPerTenant: number;
    /** A tenant's open `subscriptions/listen` streams on this node, at most. */
    maxListenersPerTenant: number;
    /** Unread answer bytes a session's client may leave before the session is closed. */
    maxBufferedBytes: number;
  };
  limits: { defaults: Limits; failureMode: LimiterFailureMode; leases: boolean; commandTimeoutMs: number };
  usage: { flushIntervalMs: number };
  /** Undefined with GATEWAY_METRICS_PORT=off. */
  metrics: { port: number; host: string } | undefined;
  hosted: { maxPerNode: number; maxPerTenant: number; idleTimeoutMs: number; startTimeoutMs: number; restartBackoff: { initialMs: number; maxMs: number } };
  /** Ranges plugins' outbound requests may reach although private (remote-mcp, http). */
  outbound: { allowCidrs: string[] };
  /** OpenTelemetry tracing; undefined (off) unless an OTLP endpoint is set. */
  tracing: { tracesUrl: string; headers: Record<string, string>; serviceName: string; sampleRatio: number } | undefined;
}

/** Reads and validates the gateway's environment once; throws ConfigError naming every bad variable. */
export function loadGatewayConfig(env: Env = process.env): GatewayConfig {
  const vars = parseEnv(gatewayEnvSchema, env);
  return {
    nodeId: vars.NODE_ID ?? `gw-${randomBytes(4).toString('hex')}`,
    http: {
      host: vars.HOST,
      port: vars.GATEWAY_PORT,
      publicUrl: vars.PUBLIC_GATEWAY_URL,
      allowedOrigins: vars.ALLOWED_ORIGINS,
      maxBodyBytes: vars.MAX_BODY_BYTES,
      timeouts: { headersMs: vars.HTTP_HEADERS_TIMEOUT_MS, requestMs: vars.HTTP_REQUEST_TIMEOUT_MS, keepAliveMs: vars.HTTP_KEEP_ALIVE_TIMEOUT_MS },
    },
    database: { url: vars.DATABASE_URL, dataDir: path.resolve(vars.DATA_DIR) },
    cluster: clusterConfig(vars),
    secrets: {
      ...configuredKeys(vars),
      // Generated secrets only make sense for the single-node embedded database.
      allowGenerate: vars.GENERATE_SECRETS && !vars.DATABASE_URL,
    },
    auth: { tenantTokenMaxLifetimeSeconds: vars.TENANT_TOKEN_MAX_LIFETIME_SECONDS, requestStateTtlMs: vars.REQUEST_STATE_TTL_SECONDS * 1000 },
    oauth: {
      accessTokenTtlSeconds: vars.OAUTH_ACCESS_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: vars.OAUTH_REFRESH_TOKEN_TTL_SECONDS,
      registrationsPerHour: vars.OAUTH_REGISTRATIONS_PER_HOUR,
    },
    logLevel: vars.LOG_LEVEL,
    plugins: { dir: vars.PLUGINS_DIR ? path.resolve(vars.PLUGINS_DIR) : undefined, packages: vars.PLUGINS, defaultTimeoutMs: vars.TOOL_TIMEOUT_MS },
    sessions: {
      keepAliveMs: vars.SSE_KEEPALIVE_MS,
      idleTimeoutMs: vars.SESSION_IDLE_TIMEOUT_MS,
      maxPerNode: vars.MAX_SESSIONS_PER_NODE,
      shutdownGraceMs: vars.SHUTDOWN_GRACE_MS,
      maxInProgressPerTenant: vars.MAX_IN_PROGRESS_PER_TENANT,
      maxListenersPerTenant: vars.MAX_LISTENERS_PER_TENANT,
      maxBufferedBytes: vars.SESSION_MAX_BUFFERED_BYTES,
    },
    limits: { defaults: limitDefaultsFromEnv(vars), failureMode: vars.LIMITS_FAILURE_MODE, leases: vars.LIMITS_LEASES, commandTimeoutMs: vars.LIMITS_COMMAND_TIMEOUT_MS },
    usage: { flushIntervalMs: vars.USAGE_FLUSH_INTERVAL_MS },
    metrics: vars.GATEWAY_METRICS_PORT === null ? undefined : { port: vars.GATEWAY_METRICS_PORT, host: vars.GATEWAY_METRICS_HOST ?? vars.HOST },
    hosted: {
      maxPerNode: vars.HOSTED_MAX_PER_NODE,
      maxPerTenant: vars.HOSTED_MAX_PER_TENANT,
      idleTimeoutMs: vars.HOSTED_IDLE_TIMEOUT_MS,
      startTimeoutMs: vars.HOSTED_START_TIMEOUT_MS,
      restartBackoff: HOSTED_RESTART_BACKOFF,
    },
    outbound: { allowCidrs: vars.OUTBOUND_ALLOW_CIDRS },
    tracing: tracingConfig(vars),
  };
}

/** OTLP/HTTP: the signal-specific endpoint is used as is, the general one gets `/v1/traces` appended. */
function tracingConfig(vars: z.output<typeof gatewayEnvSchema>): GatewayConfig['tracing'] {
  const base = vars.OTEL_EXPORTER_OTLP_ENDPOINT;
  const tracesUrl = vars.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? (base && `${base.replace(/\/+$/, '')}/v1/traces`);
  if (!tracesUrl) return undefined;
  return { tracesUrl, headers: otlpHeaders(vars.OTEL_EXPORTER_OTLP_HEADERS), serviceName: vars.OTEL_SERVICE_NAME, sampleRatio: vars.OTEL_TRACES_SAMPLER_ARG };
}

/** `key1=value1,key2=value2` (W3C baggage-like, values percent-decoded), as the OTLP exporter spec defines it. */
function otlpHeaders(list: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of list?.split(',') ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    headers[pair.slice(0, at).trim()] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return headers;
}

function clusterConfig(vars: z.output<typeof gatewayEnvSchema>): GatewayConfig['cluster'] {
  const redis = clusterRedis(vars);
  return redis && { redisUrl: redis.url, secret: redis.clusterSecret, prefix: redis.prefix, forwardTimeoutMs: vars.FORWARD_TIMEOUT_MS };
}
