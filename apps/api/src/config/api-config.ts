import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import {
  ConfigError,
  clusterRedis,
  commaList,
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
import { ssoIssuerProblem } from '@switchboard/oauth-policy';
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
/** The console's OIDC callback, under CONSOLE_PATH: CONSOLE_OIDC_REDIRECT_URI must end with it. */
export const CONSOLE_OIDC_CALLBACK_SUFFIX = '/console/oidc/callback';
export const DEFAULT_CONSOLE_OIDC_SCOPES = 'openid email profile';
export const DEFAULT_CONSOLE_OIDC_GROUPS_CLAIM = 'groups';
/** The prefix of a CONSOLE_OIDC_PLATFORM_ADMINS entry naming a group instead of an email. */
export const PLATFORM_ADMIN_GROUP_PREFIX = 'group:';

/** `10.0.0.0/8,127.0.0.1/32`, as the gateway's OUTBOUND_ALLOW_CIDRS. */
const cidrList = commaList.refine(
  (list) => list.every((cidr) => /^[0-9a-fA-F:.]+\/\d{1,3}$/.test(cidr) && isIP(cidr.split('/')[0]!) !== 0),
  'comma-separated CIDR ranges, e.g. 10.1.0.0/16',
);

/** Compared character for character with the discovery document's `issuer` (OIDC Discovery §4.3): never normalised. */
const oidcIssuer = z.string().superRefine((issuer, ctx) => {
  const problem = ssoIssuerProblem(issuer);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const platformAdminEntry = z.string().refine(
  (entry) => (entry.startsWith(PLATFORM_ADMIN_GROUP_PREFIX) ? entry.length > PLATFORM_ADMIN_GROUP_PREFIX.length : /^[^@\s]+@[^@\s]+$/.test(entry)),
  'each entry is an email address or group:<name>',
);

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
  CONSOLE_OIDC_ISSUER: oidcIssuer.optional(),
  CONSOLE_OIDC_CLIENT_ID: z.string().min(1).optional(),
  CONSOLE_OIDC_CLIENT_SECRET: z.string().min(1).optional(),
  CONSOLE_OIDC_REDIRECT_URI: httpUrl
    .refine((uri) => new URL(uri).pathname.endsWith(CONSOLE_OIDC_CALLBACK_SUFFIX), `must end with ${CONSOLE_OIDC_CALLBACK_SUFFIX}`)
    .optional(),
  CONSOLE_OIDC_PLATFORM_ADMINS: commaList.pipe(z.array(platformAdminEntry)),
  CONSOLE_OIDC_PROVIDER_NAME: z.string().min(1).max(100).optional(),
  CONSOLE_OIDC_SCOPES: z
    .string()
    .default(DEFAULT_CONSOLE_OIDC_SCOPES)
    .refine((scopes) => scopes.split(' ').includes('openid'), 'must include openid'),
  CONSOLE_OIDC_GROUPS_CLAIM: z.string().min(1).default(DEFAULT_CONSOLE_OIDC_GROUPS_CLAIM),
  CONSOLE_OIDC_ALLOW_CIDRS: cidrList,
});

/** Operator sign-in to the console through an OpenID Connect provider (docs/console.md). */
export interface ConsoleOidcConfig {
  /** Exactly as the provider's discovery document names it. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Registered at the provider; ends with CONSOLE_OIDC_CALLBACK_SUFFIX. */
  redirectUri: string;
  /** Who becomes a platform admin: lower-cased emails, and group names. */
  platformAdmins: { emails: string[]; groups: string[] };
  /** What the sign-in button says: "Sign in with <providerName>". */
  providerName: string;
  scopes: string;
  groupsClaim: string;
  /** Ranges the provider may be reached on despite the SSRF guard (a provider on a private network). */
  allowCidrs: string[];
}

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
  /** The built web console served at /console; a missing directory serves none. `oidc` undefined: token sign-in only. */
  console: { dir: string; oidc: ConsoleOidcConfig | undefined };
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
    console: { dir: path.resolve(vars.CONSOLE_DIR), oidc: consoleOidcConfig(vars) },
  };
}

const CONSOLE_OIDC_REQUIRED = ['CONSOLE_OIDC_ISSUER', 'CONSOLE_OIDC_CLIENT_ID', 'CONSOLE_OIDC_CLIENT_SECRET', 'CONSOLE_OIDC_REDIRECT_URI', 'CONSOLE_OIDC_PLATFORM_ADMINS'] as const;

function consoleOidcConfig(vars: z.output<typeof apiEnvSchema>): ConsoleOidcConfig | undefined {
  const given = CONSOLE_OIDC_REQUIRED.filter((name) => (name === 'CONSOLE_OIDC_PLATFORM_ADMINS' ? vars[name].length > 0 : vars[name] !== undefined));
  if (given.length === 0) return undefined;
  const problems: { variable: string; message: string }[] = CONSOLE_OIDC_REQUIRED.filter((name) => !given.includes(name)).map((variable) => ({ variable, message: `required with ${given[0]}` }));
  // The console's session is an HS256 admin token the API mints; with ADMIN_JWKS_URL it has no key to mint one.
  if (vars.ADMIN_JWKS_URL) problems.push({ variable: 'CONSOLE_OIDC_ISSUER', message: 'not available with ADMIN_JWKS_URL (the API mints the console session with ADMIN_JWT_SECRET)' });
  if (problems.length > 0) throw new ConfigError(problems);
  const admins = vars.CONSOLE_OIDC_PLATFORM_ADMINS;
  return {
    issuer: vars.CONSOLE_OIDC_ISSUER!,
    clientId: vars.CONSOLE_OIDC_CLIENT_ID!,
    clientSecret: vars.CONSOLE_OIDC_CLIENT_SECRET!,
    redirectUri: vars.CONSOLE_OIDC_REDIRECT_URI!,
    platformAdmins: {
      emails: admins.filter((entry) => !entry.startsWith(PLATFORM_ADMIN_GROUP_PREFIX)).map((email) => email.toLowerCase()),
      groups: admins.filter((entry) => entry.startsWith(PLATFORM_ADMIN_GROUP_PREFIX)).map((entry) => entry.slice(PLATFORM_ADMIN_GROUP_PREFIX.length)),
    },
    providerName: vars.CONSOLE_OIDC_PROVIDER_NAME ?? new URL(vars.CONSOLE_OIDC_ISSUER!).host,
    scopes: vars.CONSOLE_OIDC_SCOPES,
    groupsClaim: vars.CONSOLE_OIDC_GROUPS_CLAIM,
    allowCidrs: vars.CONSOLE_OIDC_ALLOW_CIDRS,
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
