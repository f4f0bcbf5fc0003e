import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiKeyResolver, systemClock, type Clock } from '@switchboard/api-keys';
import { ConfigError, urlHost, type Env } from '@switchboard/config';
import { ClusterKeys, InProcessSessionDirectory, type ControlBus, type SessionDirectory } from '@switchboard/coordination';
import { migrate, openDatabase, type EmbeddedDatabases } from '@switchboard/db';
import { createLogger, type Logger } from '@switchboard/logger';
import type { InProcessUsageSink } from '@switchboard/metering';
import { createMetricsRegistry, startMetricsServer, type ApiMetrics } from '@switchboard/metrics';
import { loadPluginCatalog } from '@switchboard/plugin-runtime';
import type { PlatformSecrets } from '@switchboard/secrets';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { AppModule } from './app.module';
import { mintAdminToken } from './auth/admin-jwt';
import { authenticateBeforeBody, RequestAuthenticator } from './auth/request-authenticator';
import type { ApiContext } from './common/api-context';
import { ApiExceptionFilter } from './common/api-exception.filter';
import { openControlBus } from './common/control-bus';
import { currentRequestContext, requestIdFor, trackRequestContext } from './common/request-context';
import { NestPinoLogger } from './common/nest-logger';
import { serveConsole } from './console/console-static';
import { loadApiConfig, processEnv, type ApiConfig } from './config/api-config';
import { loadApiSecrets } from './config/api-secrets';
import { countHttpRequests } from './metrics/http-metrics';
import { setupOpenApi } from './openapi/openapi.setup';
import { startUsagePipeline } from './usage/usage-pipeline';

/** The token printed on the first embedded start lives a day: long enough to follow the README. */
export const FIRST_START_ADMIN_TOKEN_TTL_SECONDS = 24 * 3600;
/** The admin API checks keys only for POST /v1/tokens: a short cache plus bus invalidation suffices. */
const API_KEY_CACHE_TTL_MS = 10_000;
/** How often Node checks for requests past their headers or request timeout (its default, 30 s, would add up to that much). */
const MAX_TIMEOUT_CHECK_INTERVAL_MS = 1_000;

export interface RunningApi {
  url: string;
  port: number;
  /** `http://host:port/metrics` of the metrics server; undefined with API_METRICS_PORT=off. */
  metricsUrl: string | undefined;
  close(): Promise<void>;
}

/**
 * What the admin API shares with a gateway started in the same process (`npm start` builds these
 * parts and hands them to both apps). Used in embedded mode only: on Redis, the cluster's are used.
 */
export interface ApiEmbedding {
  /** Where control events go to the gateway; not closed by the API. */
  controlBus: ControlBus;
  /** Where the gateway records usage: the API attaches its in-process sink while it runs. */
  usage: { attach(sink: InProcessUsageSink): () => void };
  /** The gateway's live sessions, for the sessions endpoints. */
  sessions: SessionDirectory;
  /** Opens the database, sharing the embedded PGlite with the other app of this process (else the app opens its own). */
  databases?: Pick<EmbeddedDatabases, 'openDatabase'>;
}

export interface StartApiOptions {
  /** Shared with the gateway in this process; without it an embedded API builds its own parts. */
  embedded?: ApiEmbedding;
  /** Where logs go (tests capture them); stdout by default. */
  logDestination?: DestinationStream;
  /** Where the first-start admin token is printed; stdout by default. */
  print?: (text: string) => void;
  clock?: Clock;
  /**
   * Redis names (tests give each file its own, so parallel files never see each other's events
   * or jobs); by default the names every gateway uses.
   */
  redisNamespace?: { controlChannel: string; usageQueuePrefix: string };
}

/**
 * Starts the admin API: validates config, loads (or, embedded, generates) the platform secrets,
 * migrates the database, loads the plugin catalog and listens. Used by `npm run start:api`,
 * by the one-process launcher (`npm start`) and by tests (API_PORT=0).
 */
export async function startApi(env: Env = processEnv(), options: StartApiOptions = {}): Promise<RunningApi> {
  const config = loadApiConfig(env);
  const logger = createLogger({
    name: 'api',
    level: config.logLevel,
    nodeId: config.nodeId,
    destination: options.logDestination,
    context: currentRequestContext,
  });
  const secrets = loadApiSecrets(config);
  const clock = options.clock ?? systemClock;

  const db = (options.embedded?.databases ?? { openDatabase }).openDatabase({ url: config.database.url, dataDir: config.database.dataDir });
  const cleanups: (() => Promise<unknown> | unknown)[] = [() => db.close()];
  try {
    const migrated = await migrate(db);
    if (migrated.applied.length > 0) logger.info({ applied: migrated.applied }, 'database migrated');
    const catalog = await loadPluginCatalog({ pluginsDir: config.plugins.dir, packages: config.plugins.packages });

    const controlBus = await openControlBus(config, logger, options.redisNamespace?.controlChannel, options.embedded?.controlBus);
    cleanups.unshift(() => controlBus.close());
    const usage = startUsagePipeline({
      db,
      logger,
      nodeId: config.nodeId,
      redisUrl: config.redis?.url,
      queuePrefix: options.redisNamespace?.usageQueuePrefix ?? (config.redis && new ClusterKeys(config.redis.prefix).usageQueuePrefix()),
      embedded: options.embedded?.usage,
    });
    // Closed before the database: the last buffered usage events still need it.
    cleanups.unshift(() => usage.close());

    const apiKeys = new ApiKeyResolver(db.prisma, secrets.keyPeppers, { cacheTtlMs: API_KEY_CACHE_TTL_MS, clock });
    cleanups.unshift(apiKeys.attach(controlBus.bus));

    const metrics = createMetricsRegistry({ app: 'api', nodeId: config.nodeId, usageQueue: () => usage.queueStats() });
    const metricsServer = config.metrics
      ? await startMetricsServer({ port: config.metrics.port, host: config.metrics.host, registry: metrics.registry })
      : undefined;
    if (metricsServer) cleanups.unshift(() => metricsServer.close());

    const context: ApiContext = {
      config,
      db,
      bus: controlBus.bus,
      logger,
      secrets,
      catalog,
      clock,
      apiKeys,
      usage,
      redisReady: () => controlBus.ready() && usage.redisReady(),
      // Alone, a directory nothing attaches to: no sessions.
      inProcessSessions: options.embedded?.sessions ?? new InProcessSessionDirectory(),
    };
    const app = await createApp(context, metrics);
    cleanups.unshift(() => app.close());
    await app.listen({ port: config.http.port, host: config.http.host });

    const { port } = app.getHttpServer().address() as AddressInfo;
    const url = `http://${urlHost(config.http.host)}:${port}`;
    const metricsUrl = metricsServer && config.metrics ? `http://${urlHost(config.metrics.host)}:${metricsServer.port}/metrics` : undefined;
    logger.info(
      { url, metricsUrl, database: db.kind, mode: config.redis ? 'cluster' : 'embedded', plugins: catalog.list().map((p) => p.name) },
      'admin API listening',
    );
    if (secrets.generatedAdminSecret) printFirstStartToken(config, secrets, url, options.print);

    let closing: Promise<void> | undefined;
    return {
      url,
      port,
      metricsUrl,
      close: () => (closing ??= runAll(cleanups)),
    };
  } catch (error) {
    await runAll(cleanups);
    throw error;
  }
}

/**
 * Longest path parameter (Fastify's default is 100): an OAuth client id may be a metadata
 * document URL of up to 2048 characters, percent-encoded in `/oauth/clients/{clientId}`.
 */
const MAX_PATH_PARAM_LENGTH = 3 * 2048;

async function createApp(context: ApiContext, metrics: ApiMetrics): Promise<NestFastifyApplication> {
  const { http } = context.config;
  const adapter = new FastifyAdapter({
    bodyLimit: http.maxBodyBytes,
    maxParamLength: MAX_PATH_PARAM_LENGTH,
    genReqId: requestIdFor,
    requestTimeout: http.requestTimeoutMs,
    keepAliveTimeout: http.keepAliveTimeoutMs,
    http: {
      headersTimeout: http.headersTimeoutMs,
      requestTimeout: http.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(MAX_TIMEOUT_CHECK_INTERVAL_MS, http.headersTimeoutMs),
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(context), adapter, {
    logger: new NestPinoLogger(context.logger),
    // Nest's parsers would also accept form bodies; Fastify's own JSON parser is all we want.
    bodyParser: false,
  });
  const fastify = app.getHttpAdapter().getInstance() as FastifyInstance;
  // JSON only: a text/plain body must be a 415, not a string that fails validation.
  fastify.removeContentTypeParser('text/plain');
  const errors = new ApiExceptionFilter(context.logger);
  trackRequestContext(fastify);
  authenticateBeforeBody(fastify, app.get(RequestAuthenticator), errors);
  logRequests(fastify, context.logger);
  countHttpRequests(fastify, metrics);
  app.useGlobalFilters(errors);
  setupOpenApi(app);
  await serveConsole(fastify, context.config.console.dir, context.logger);
  await app.init();
  return app;
}

/** One line per request: id, method, path without query, status, duration. Never headers or bodies. */
function logRequests(fastify: FastifyInstance, logger: Logger): void {
  fastify.addHook('onResponse', async (request, reply) => {
    logger.info(
      { requestId: request.id, method: request.method, path: request.url.split('?')[0], status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request',
    );
  });
}


/** Printed straight to stdout, never through the logger: logs are shipped elsewhere, this is for the person at the terminal. */
function printFirstStartToken(config: ApiConfig, secrets: PlatformSecrets, url: string, print: (text: string) => void = (text) => void process.stdout.write(text)): void {
  if (config.adminAuth.mode !== 'secret' || !secrets.adminJwtSecret) return;
  const token = mintAdminToken({
    secret: secrets.adminJwtSecret,
    issuer: config.adminAuth.issuer,
    audience: config.adminAuth.audience,
    ttlSeconds: Math.min(FIRST_START_ADMIN_TOKEN_TTL_SECONDS, config.adminAuth.maxTokenTtlSeconds),
  });
  print(
    [
      '',
      `First start: generated the admin secret (and any missing platform keys) in ${config.database.dataDir}/secrets.json`,
      `Admin token (valid 24 h; more with \`npm run admin -- token\`), for ${url}:`,
      '',
      `  ${token}`,
      '',
      '',
    ].join('\n'),
  );
}

async function runAll(steps: (() => Promise<unknown> | unknown)[]): Promise<void> {
  for (const step of steps) {
    try {
      await step();
    } catch {
      /* keep closing the rest */
    }
  }
}

if (require.main === module) {
  startApi().then(
    (api) => {
      const stop = () => void api.close().then(() => process.exit(0));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof ConfigError ? error.message : (error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
