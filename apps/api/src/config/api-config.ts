import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import {
  ConfigError,
  clusterRedis,
  configuredKeys,
  httpUrl,
  logLevel,
  metricsPort,
  parseEnv,
  platformEnvSchema,
  port,
  type ClusterRedis,
  type Env,
} from '@switchboard/config';
import type { ConfiguredSecrets } from '@switchboard/secrets';
import { DEFAULT_API_METRICS_PORT } from '@switchboard/metrics';

export const DEFAULT_API_PORT = 3000;
/** Admin payloads are small JSON documents; anything bigger is a mistake or an attack (413). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** A client gets this long to send the request line and headers (slowloris), then 408. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** …and this long for the whole request, body included: admin bodies are small, a trickled one is cut (408). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** An idle keep-alive connection is closed after this; above the 60 s idle timeout of common load balancers, so they close first. */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 72_000;
/** Audience and issuer of admin tokens minted with ADMIN_JWT_SECRET (`npm run admin -- token`). */
/** Where `npm run build` puts the web console (relative to the working directory, like DATA_DIR). */
export const DEFAULT_CONSOLE_DIR = 'dist/console';
export const DEFAULT_ADMIN_JWT_AUDIENCE = 'switchboard-admin';
export const DEFAULT_ADMIN_JWT_ISSUER = 'switchboard';
/**
 * Longest lifetime of an admin token the API accepts (and the CLI mints), whoever signed it: a
 * leaked admin token must stop working within days. Mint a new one instead of a long one.
 */
export const DEFAULT_ADMIN_TOKEN_MAX_TTL_SECONDS = 7 * 24 * 3600;
const MAX_ADMIN_TOKEN_MAX_TTL_SECONDS = 90 * 24 * 3600;
/** Shortest accepted ADMIN_JWT_SECRET: HS256 is only as strong as its secret. */
export const MIN_ADMIN_JWT_SECRET_LENGTH = 32;
/** The platform's shared variables (libs/config) and the API's own. */
const apiEnvSchema = platformEnvSchema.extend({
  API_PORT: port(DEFAULT_API_PORT),
  API_METRICS_PORT: metricsPort(DEFAULT_API_METRICS_PORT),
  API_METRICS_HOST: z.string().optional(),
  ADMIN_JWT_SECRET: z
    .string()
    .min(MIN_ADMIN_JWT_SECRET_LENGTH, `must be at least ${MIN_ADMIN_JWT_SECRET_LENGTH} characters (openssl rand -base64 32)`)
    .optional(),
  ADMIN_JWKS_URL: httpUrl.optional(),
  ADMIN_JWT_ISSUER: z.string().optional(),
  ADMIN_JWT_AUDIENCE: z.string().optional(),
  ADMIN_TOKEN_MAX_TTL_SECONDS: z.coerce.number().int().min(60).max(MAX_ADMIN_TOKEN_MAX_TTL_SECONDS).default(DEFAULT_ADMIN_TOKEN_MAX_TTL_SECONDS),
  MAX_BODY_BYTES: z.coerce.number().int().positive().default(DEFAULT_MAX_BODY_BYTES),
  API_HEADERS_TIMEOUT_MS: z.coerce.number().int().positive().default(DEFAULT_HEADERS_TIMEOUT_MS),
  API_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(DEFAULT_REQUEST_TIMEOUT_MS),
  API_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().positive().default(DEFAULT_KEEP_ALIVE_TIMEOUT_MS),
  CONSOLE_DIR: z.string().min(1).default(DEFAULT_CONSOLE_DIR),
});

/** `maxTokenTtlSeconds`: tokens expiring further out (after `iat` or now) are refused. */
export type AdminAuthConfig =
  | { mode: 'secret'; secret: string | undefined; issuer: string; audience: string; maxTokenTtlSeconds: number }
  | { mode: 'jwks'; jwksUrl: string; issuer: string; audience: string; maxTokenTtlSeconds: number };

export interface ApiConfig {
  nodeId: string;
  http: {
    host: string;
    port: number;
    maxBodyBytes: number;
    /** Request line and headers must arrive within this (408 otherwise). */
    headersTimeoutMs: number;
    /** The whole request, body included, must arrive within this (408 otherwise). */
    requestTimeoutMs: number;
    /** Idle keep-alive connections close after this. */
    keepAliveTimeoutMs: number;
  };
  /** Base of the MCP URLs handed out with new keys, e.g. https://mcp.example.com. */
  publicGatewayUrl: string;
  database: { url: string | undefined; dataDir: string };
  /**
   * Cluster mode when set: control events over Redis pub/sub, usage worker on BullMQ. Unset is
   * embedded mode: in-process bus and usage sink, shared with a gateway in the same process.
   */
  redis: ClusterRedis | undefined;
  /** The Prometheus endpoint on a port of its own; undefined with API_METRICS_PORT=off. */
  metrics: { host: string; port: number } | undefined;
  /** `secret` is filled from ADMIN_JWT_SECRET, or by loadPlatformSecrets in embedded mode. */
  adminAuth: AdminAuthConfig;
  /** Embedded mode (no DATABASE_URL): missing secrets are generated into DATA_DIR. */
  secrets: ConfiguredSecrets;
  logLevel: z.output<typeof logLevel>;
  /** `dir` undefined = the workspace's plugins/ (dist/plugins when running compiled code). */
  plugins: { dir: string | undefined; packages: string[] };
  /** The built web console served at /console; a missing directory serves none. */
  console: { dir: string };
}

/** The process environment; the only place the API reads it. */
export function processEnv(): Env {
  return process.env;
}

/** Reads and validates the API's environment once; throws ConfigError naming every bad variable. */
export function loadApiConfig(env: Env): ApiConfig {
  const vars = parseEnv(apiEnvSchema, env);
  return {
    nodeId: vars.NODE_ID ?? `api-${randomBytes(4).toString('hex')}`,
    http: httpConfig(vars),
    publicGatewayUrl: vars.PUBLIC_GATEWAY_URL ?? `http://localhost:${vars.GATEWAY_PORT}`,
    database: { url: vars.DATABASE_URL, dataDir: path.resolve(vars.DATA_DIR) },
    redis: clusterRedis(vars),
    metrics: vars.API_METRICS_PORT === null ? undefined : { host: vars.API_METRICS_HOST ?? vars.HOST, port: vars.API_METRICS_PORT },
    adminAuth: adminAuthConfig(vars),
    secrets: { ...configuredKeys(vars), allowGenerate: !vars.DATABASE_URL },
    logLevel: vars.LOG_LEVEL,
    plugins: { dir: vars.PLUGINS_DIR ? path.resolve(vars.PLUGINS_DIR) : undefined, packages: vars.PLUGINS },
    console: { dir: path.resolve(vars.CONSOLE_DIR) },
  };
}

function httpConfig(vars: z.output<typeof apiEnvSchema>): ApiConfig['http'] {
  // Node refuses a headers timeout above the request timeout; say so by name instead.
  if (vars.API_HEADERS_TIMEOUT_MS > vars.API_REQUEST_TIMEOUT_MS) {
    throw new ConfigError([{ variable: 'API_HEADERS_TIMEOUT_MS', message: `must not exceed API_REQUEST_TIMEOUT_MS (${vars.API_REQUEST_TIMEOUT_MS})` }]);
  }
  return {
    host: vars.HOST,
    port: vars.API_PORT,
    maxBodyBytes: vars.MAX_BODY_BYTES,
    headersTimeoutMs: vars.API_HEADERS_TIMEOUT_MS,
    requestTimeoutMs: vars.API_REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: vars.API_KEEP_ALIVE_TIMEOUT_MS,
  };
}

function adminAuthConfig(vars: z.output<typeof apiEnvSchema>): AdminAuthConfig {
  if (!vars.ADMIN_JWKS_URL) {
    return {
      mode: 'secret',
      secret: vars.ADMIN_JWT_SECRET,
      issuer: vars.ADMIN_JWT_ISSUER ?? DEFAULT_ADMIN_JWT_ISSUER,
      audience: vars.ADMIN_JWT_AUDIENCE ?? DEFAULT_ADMIN_JWT_AUDIENCE,
      maxTokenTtlSeconds: vars.ADMIN_TOKEN_MAX_TTL_SECONDS,
    };
  }
  // Tokens from an identity provider are only safe to accept when they were meant for us.
  const problems = (['ADMIN_JWT_ISSUER', 'ADMIN_JWT_AUDIENCE'] as const)
    .filter((name) => !vars[name])
    .map((variable) => ({ variable, message: 'required with ADMIN_JWKS_URL' }));
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    mode: 'jwks',
    jwksUrl: vars.ADMIN_JWKS_URL,
    issuer: vars.ADMIN_JWT_ISSUER!,
    audience: vars.ADMIN_JWT_AUDIENCE!,
    maxTokenTtlSeconds: vars.ADMIN_TOKEN_MAX_TTL_SECONDS,
  };
}
