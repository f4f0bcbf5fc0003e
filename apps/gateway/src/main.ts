import 'reflect-metadata';
import { EventEmitter } from 'node:events';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ApiKeyResolver, TenantTokens } from '@switchboard/api-keys';
import type { Env } from '@switchboard/config';
import { ClusterKeys, InProcessControlBus, type ControlBus, type ControlEvent, type SessionDirectory } from '@switchboard/coordination';
import { migrate, openDatabase, pendingMigrations, type EmbeddedDatabases } from '@switchboard/db';
import { createLogger, type Logger } from '@switchboard/logger';
import type { UsageSink } from '@switchboard/metering';
import { loadPluginCatalog, type RunningPlugins } from '@switchboard/plugin-runtime';
import { outboundNetwork } from '@switchboard/plugin-net';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ConnectSeals, sdkFetch, UpstreamCredentialStore } from '@switchboard/upstream-auth';
import { loadPlatformSecrets, SecretBox } from '@switchboard/secrets';
import { Tracing } from '@switchboard/tracing';
import { AccessTokenVerifier, ACCESS_TOKEN_MAX_LIFETIME_SECONDS, prismaSigningKeySource } from './auth/access-token-verifier';
import { BearerAuthenticator } from './auth/bearer-authenticator';
import { prismaRevokedGrantSource, RevokedGrants } from './auth/revoked-grants';
import { RequestStateCodec } from './auth/request-state';
import { TenantTokenVerifier } from './auth/tenant-token-verifier';
import { keysAndSsoGrants, SsoPrincipals } from './auth/sso-principals';
import { openClusterNode } from './cluster/cluster-node';
import { loadGatewayConfig } from './config/gateway-config';
import { GatewayModule } from './transports/gateway.module';
import { GatewayStatus } from './transports/gateway-status';
import { UNSUPPORTED_BODY } from './protocol/json-rpc-body';
import { OriginPolicy } from './transports/origin-policy';
import { registerMcpRoutes } from './transports/mcp-routes';
import { RequestGate } from './transports/request-gate';
import { observeRequests, requestIdFor } from './transports/request-log';
import { startLimitsAndMetering, type LimitsAndMetering } from './accounting/limits-and-metering';
import { GATEWAY_SERVER_INFO } from './sessions/session-server';
import { SessionManager } from './sessions/session-manager';
import { localSessionDirectory } from './sessions/session-directory-view';
import { LocalSessionRegistry } from './sessions/session-registry';
import { TenantPluginsService } from './tenants/tenant-plugins';
import { platformPluginStores } from './tenants/plugin-stores';
import { ToolListRecorder } from './tenants/tool-list-recorder';
import { startGatewayPlugins } from './catalog/gateway-plugins';
import { startHostedServers, type HostedRuntime } from './hosted/hosted-runtime';
import type { HostedServerInfo } from './hosted/hosted-server-pool';
import { hostedServerMetrics } from './accounting/hosted-server-metrics';
import { McpEndpointsService } from './transports/mcp-endpoints';
import { ModernListen } from './transports/modern-listen';
import { ListenerRegistry } from './sessions/listener-registry';
import { RequestTracker } from './sessions/request-tracker';
import { timedHttpServer } from './transports/http-server';
import { AuthorizationServer } from './oauth/authorization-server';
import { ClientMetadataDocuments } from './oauth/client-metadata-document';
import { PendingAuthorizations } from './oauth/pending-authorization';
import { RegistrationLimiter } from './oauth/registration-limiter';
import { SigningKeys } from './oauth/signing-keys';
import { OidcProviders } from '@switchboard/oidc-client';
import { SsoSignIn } from './oauth/sso-sign-in';
import { registerOAuthRoutes, registerUpstreamOAuthRoutes } from './transports/oauth-routes';
import { UpstreamConnect } from './oauth/upstream-connect';


/**
 * What a gateway shares with an admin API started in the same process (`npm start` builds these
 * parts and hands them to both apps). Used in embedded mode only: on Redis, nodes share the cluster.
 */
export interface GatewayEmbedding {
  /** Control events the API publishes. */
  controlBus: ControlBus;
  /** Usage events, into the in-process sink the API owns; closing it only flushes. */
  usage: UsageSink;
  /** Where the API lists sessions: the gateway attaches its registry while it runs. */
  sessions: { attach(directory: SessionDirectory): () => void };
  /** Opens the database, sharing the embedded PGlite with the other app of this process (else the app opens its own). */
  databases?: Pick<EmbeddedDatabases, 'openDatabase'>;
}

export interface StartGatewayOptions {
  /** Shared with the API in this process; without it an embedded gateway builds its own parts. */
  embedded?: GatewayEmbedding;
  /** Control events from elsewhere (tests); by default the cluster's, the embedding's, or a bus of its own. */
  bus?: ControlBus;
  /** Apply pending migrations instead of refusing to start (embedded first run, tests). */
  migrate?: boolean;
  /** Where logs go (tests capture them); stdout by default. */
  logDestination?: NodeJS.WritableStream;
  /** BullMQ prefix of the usage queue (tests give each file its own, as the API's `redisNamespace`). */
  usageQueuePrefix?: string;
}

export interface RunningGateway {
  url: string;
  port: number;
  nodeId: string;
  /** `http://host:port/metrics` on the metrics port; undefined with GATEWAY_METRICS_PORT=off. */
  metricsUrl: string | undefined;
  /** Sessions open on this node now: all of them, or those of one tenant (slug) or key. */
  activeSessions(of?: { tenant?: string; keyId?: string }): number;
  /** Hosted MCP servers (server templates) running on this node now. */
  hostedServers(): HostedServerInfo[];
  /** Graceful: no new sessions, in-flight calls finish (up to SHUTDOWN_GRACE_MS), streams close. */
  close(): Promise<void>;
}

/** Starts a gateway node from an environment (process.env by default). */
export async function startGateway(env?: Env, options: StartGatewayOptions = {}): Promise<RunningGateway> {
  const config = loadGatewayConfig(env);
  const logger = createLogger({
    name: 'gateway',
    level: config.logLevel,
    nodeId: config.nodeId,
    destination: options.logDestination as never,
  });
  const catalog = await loadPluginCatalog({ pluginsDir: config.plugins.dir, packages: config.plugins.packages });
  const secrets = loadPlatformSecrets({ ...config.secrets, dataDir: config.database.dataDir });
  const db = (options.embedded?.databases ?? { openDatabase }).openDatabase({ url: config.database.url, dataDir: config.database.dataDir });
  // OpenTelemetry (OTEL_EXPORTER_OTLP_ENDPOINT): one tracer for the process; off, every span site is a branch.
  const tracing = config.tracing
    ? Tracing.start({ ...config.tracing, serviceVersion: GATEWAY_SERVER_INFO.version, resource: { 'service.instance.id': config.nodeId } })
    : Tracing.disabled();
  // Cluster mode (REDIS_URL): sessions recorded in Redis, requests forwarded between nodes.
  const cluster = config.cluster ? await openClusterNode(config.nodeId, config.cluster, logger, config.sessions, tracing) : undefined;
  const bus = options.bus ?? cluster?.bus ?? options.embedded?.controlBus ?? new InProcessControlBus();
  const unsubscribers: (() => void)[] = [];
  let accounting: LimitsAndMetering | undefined;
  let hosted: HostedRuntime | undefined;
  let plugins: RunningPlugins | undefined;
  try {
    // Each plugin's setup, with the platform's outbound policy on its context (no process-wide state).
    plugins = await startGatewayPlugins(catalog, config.outbound, logger, tracing);
    await ensureMigrated(db, options.migrate === true, logger);
    accounting = await startLimitsAndMetering(config, db, logger, {
      redis: config.cluster ? { url: config.cluster.redisUrl, limitsKeyPrefix: `${config.cluster.prefix}:limits:` } : undefined,
      usageQueuePrefix: options.usageQueuePrefix ?? (config.cluster && new ClusterKeys(config.cluster.prefix).usageQueuePrefix()),
      embeddedUsage: options.embedded?.usage,
    });
    const redisUp = accounting.metrics.redisConnectionUp;
    cluster?.onRedisStatus((connection, ready) => redisUp.labels(connection).set(ready ? 1 : 0));

    const keys = new ApiKeyResolver(db.prisma, secrets.keyPeppers);
    // What plugins and hosted servers announce (a list changed, a resource updated) is published
    // once on the bus: every node hears it there, this one included, and tells its own sessions
    // and listen streams. While the bus is away (Redis down) only this node hears it.
    const localEvents = new EventEmitter<{ event: [ControlEvent] }>();
    const announce = (event: ControlEvent): Promise<void> =>
      bus.publish(event).catch((error: unknown) => {
        logger.warn({ err: error, event: event.type }, 'control bus unavailable: change told to this node only');
        localEvents.emit('event', event);
      });
    // A hosted server's list_changed, or a plugin's listTools changing, counts as an admin change.
    const pluginsChanged = (tenantId: string) => void announce({ type: 'plugins.changed', tenantId });
    hosted = startHostedServers(config, db.prisma, logger, pluginsChanged, hostedServerMetrics(accounting.metrics), tracing);
    // Upstream OAuth (docs/upstream-oauth.md): discovery, registration and token requests go through the outbound SSRF guard.
    const upstreamFetch = outboundNetwork({ allow: config.outbound.allowCidrs }).createFetch();
    unsubscribers.push(() => void upstreamFetch.close());
    const upstreamSeals = new ConnectSeals(secrets.secretsKeys);
    const upstreamCredentials = new UpstreamCredentialStore(db.prisma, new SecretBox(secrets.secretsKeys), upstreamSeals, { fetch: sdkFetch(upstreamFetch.fetch as unknown as FetchLike) });
    // Each installation's listed tools, for the admin API's tool list (docs/decisions.md).
    const toolLists = new ToolListRecorder(db.prisma, logger);
    const tenantPlugins = new TenantPluginsService(db.prisma, catalog, new SecretBox(secrets.secretsKeys), logger, {
      plugins,
      stores: platformPluginStores(db.prisma),
      hosted: hosted.templates,
      onListChanged: pluginsChanged,
      upstreamCredentials,
      upstreamConnectBase: config.http.publicUrl,
      toolLists,
    });
    const telemetry = accounting.telemetry;
    const requests = new RequestTracker({
      maxInProgressPerTenant: config.sessions.maxInProgressPerTenant,
      maxBufferedBytes: config.sessions.maxBufferedBytes,
      onSlowReaderClosed: () => telemetry.sessionClosedSlowReader(),
    });
    // Grants made through single sign-on have no API key: their principal is the tenant's, their pseudo key id the grant's.
    const ssoPrincipals = new SsoPrincipals(db.prisma);
    const credentials = keysAndSsoGrants(keys, ssoPrincipals);
    const sessions = new SessionManager(cluster?.registry ?? new LocalSessionRegistry(), tenantPlugins, credentials, logger, {
      keepAliveMs: config.sessions.keepAliveMs,
      idleTimeoutMs: config.sessions.idleTimeoutMs,
      maxPerNode: config.sessions.maxPerNode,
      defaultTimeoutMs: config.plugins.defaultTimeoutMs,
      nodeId: config.nodeId,
      eventStoreFor: cluster?.eventStoreFor,
      toolCalls: accounting.toolCalls,
      requests,
      requestStates: new RequestStateCodec(secrets.secretsKeys, config.auth.requestStateTtlMs),
      announce,
      tracing,
    });
    const listeners = new ListenerRegistry({
      maxPerTenant: config.sessions.maxListenersPerTenant,
      keyStillValid: async (keyId) => (await credentials.resolveKeyId(keyId)).ok,
    });
    const applyControlEvent = (event: ControlEvent) => {
      sessions.onControlEvent(event).catch((error) => logger.error({ err: error, event: event.type }, 'control event failed'));
      try {
        listeners.onControlEvent(event);
      } catch (error) {
        logger.error({ err: error, event: event.type }, 'control event failed for listen streams');
      }
    };
    localEvents.on('event', applyControlEvent);
    unsubscribers.push(() => localEvents.off('event', applyControlEvent));
    // The resolver's caches first, so sessions re-checking a key see the change.
    unsubscribers.push(keys.attach(bus));
    unsubscribers.push(ssoPrincipals.attach(bus));
    unsubscribers.push(bus.subscribe(applyControlEvent));
    // OAuth access tokens (docs/oauth.md): public keys in memory, revoked grants of the last token lifetime.
    const revokedGrants = new RevokedGrants(prismaRevokedGrantSource(db.prisma), { windowMs: ACCESS_TOKEN_MAX_LIFETIME_SECONDS * 1000 });
    unsubscribers.push(await revokedGrants.start(bus, (error) => logger.warn({ err: error }, 'revoked OAuth grants: poll failed')));
    const gate = new RequestGate(
      new OriginPolicy(config.http.allowedOrigins, config.http.publicUrl),
      new BearerAuthenticator(keys, new TenantTokenVerifier(new TenantTokens(secrets.keyPeppers), { maxLifetimeSeconds: config.auth.tenantTokenMaxLifetimeSeconds }), {
        verifier: new AccessTokenVerifier(prismaSigningKeySource(db.prisma)),
        revokedGrants,
        sso: ssoPrincipals,
      }),
      config.http.publicUrl,
      logger,
      accounting,
      tracing,
    );
    const endpoints = new McpEndpointsService({
      sessions,
      tenantPlugins,
      limits: accounting.limits,
      telemetry,
      requests,
      maxBufferedBytes: config.sessions.maxBufferedBytes,
      logger,
      ...(cluster ? { forwarder: cluster.forwarder } : {}),
      tracing,
      publicUrl: config.http.publicUrl,
      listen: new ModernListen({
        listeners,
        tenantPlugins,
        telemetry,
        keepAliveMs: config.sessions.keepAliveMs,
        maxBufferedBytes: config.sessions.maxBufferedBytes,
      }),
    });
    const status = new GatewayStatus(config.nodeId, GATEWAY_SERVER_INFO.version, config.http.publicUrl, sessions, db, logger, cluster?.health, accounting.warnings);
    if (!cluster && options.embedded) unsubscribers.push(options.embedded.sessions.attach(localSessionDirectory(sessions.registry, config.nodeId)));

    const app = await NestFactory.create<NestFastifyApplication>(
      GatewayModule.with({ status }),
      // No Nest middleware in the gateway: without middie, requests skip its per-request hook.
      new FastifyAdapter({
        bodyLimit: config.http.maxBodyBytes,
        genReqId: requestIdFor,
        skipMiddie: true,
        // app.close() runs after the drain has answered every request: what is still connected
        // then is a keep-alive socket (or the tail of a stream its client stopped reading), and
        // waiting for each to time out only delays the exit by up to HTTP_KEEP_ALIVE_TIMEOUT_MS.
        forceCloseConnections: true,
        serverFactory: timedHttpServer(config.http.timeouts),
      }),
      { bodyParser: false, logger: false },
    );
    registerBodyParsers(app, config.http.maxBodyBytes);
    // First, so its hook runs before any hook that answers early (the gate's refusals are logged too).
    observeRequests(app.getHttpAdapter().getInstance(), logger, accounting.telemetry);
    registerMcpRoutes(app.getHttpAdapter().getInstance(), gate, endpoints, status, tracing);
    // The platform's OAuth authorization server (docs/oauth.md): all its state in Postgres, so any node serves any step.
    // Client ID Metadata Documents are fetched under the same outbound policy as plugins (SSRF guard).
    const metadataDocuments = ClientMetadataDocuments.over(outboundNetwork({ allow: config.outbound.allowCidrs }));
    unsubscribers.push(() => void metadataDocuments.close());
    // The tenants' OpenID Connect providers: discovery, keys and token endpoint through the same guard.
    const ssoProviders = OidcProviders.over(outboundNetwork({ allow: config.outbound.allowCidrs }));
    unsubscribers.push(() => void ssoProviders.close());
    const secretBox = new SecretBox(secrets.secretsKeys);
    // One single sign-on for both of its uses: the consent page and a per-user connect link's sign-in (one callback).
    const sso = new SsoSignIn(ssoProviders, secretBox, secrets.secretsKeys);
    const authorizationServer = new AuthorizationServer(
      db.prisma,
      keys,
      secrets.keyPeppers,
      new SigningKeys(db.prisma, secretBox),
      new PendingAuthorizations(secrets.secretsKeys),
      new RegistrationLimiter(config.oauth.registrationsPerHour),
      { accessTokenTtlSeconds: config.oauth.accessTokenTtlSeconds, refreshTokenTtlSeconds: config.oauth.refreshTokenTtlSeconds, metadataDocuments, announce, sso },
    );
    const upstreamConnect = new UpstreamConnect(db.prisma, upstreamCredentials, upstreamSeals, sdkFetch(upstreamFetch.fetch as unknown as FetchLike), logger, pluginsChanged, keys, sso);
    registerOAuthRoutes(app.getHttpAdapter().getInstance(), authorizationServer, { publicUrl: config.http.publicUrl, upstreamConnect });
    registerUpstreamOAuthRoutes(app.getHttpAdapter().getInstance(), upstreamConnect, { publicUrl: config.http.publicUrl });
    await app.listen(config.http.port, config.http.host);
    sessions.startSweeper();
    cluster?.start();

    const address = app.getHttpServer().address();
    const port = typeof address === 'object' && address ? address.port : config.http.port;
    const url = `http://${config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host}:${port}`;
    logger.info({ url, metricsUrl: accounting.metricsUrl, plugins: catalog.list().map((p) => p.name) }, 'gateway listening');
    const running = accounting;
    const runningHosted = hosted;
    const runningPlugins = plugins;

    let closing: Promise<void> | undefined;
    return {
      url,
      port,
      nodeId: config.nodeId,
      metricsUrl: running.metricsUrl,
      activeSessions: (of) => {
        if (!of) return sessions.registry.size;
        let count = 0;
        for (const session of sessions.registry.values()) {
          if ((of.tenant === undefined || session.tenantSlug === of.tenant) && (of.keyId === undefined || session.binding.keyId === of.keyId)) count++;
        }
        return count;
      },
      hostedServers: () => runningHosted.list(),
      close: () =>
        (closing ??= (async () => {
          logger.info('gateway shutting down');
          // Listen streams end first, each with its final result: they hold no request to drain.
          listeners.closeAll();
          await sessions.shutdown(config.sessions.shutdownGraceMs);
          // No orphans: every hosted server's process group is stopped and reaped.
          await runningHosted.close();
          for (const unsubscribe of unsubscribers) unsubscribe();
          await app.close();
          // After the last call: what each plugin's setup opened (clients, pools, timers).
          await runningPlugins.close();
          await cluster?.close();
          // After the drain: the last calls' usage events and key last-use times still go out.
          await running.close();
          // The last spans (the drain's) are exported before the exit.
          await tracing.close();
          await toolLists.settled();
          await db.close();
        })()),
    };
  } catch (error) {
    for (const unsubscribe of unsubscribers) unsubscribe();
    await cluster?.close().catch(() => undefined);
    await accounting?.close().catch(() => undefined);
    await hosted?.close().catch(() => undefined);
    await plugins?.close();
    await tracing.close().catch(() => undefined);
    await db.close().catch(() => undefined);
    throw error;
  }
}

async function ensureMigrated(db: ReturnType<typeof openDatabase>, apply: boolean, logger: Logger): Promise<void> {
  if (apply) {
    await migrate(db);
    return;
  }
  const pending = await pendingMigrations(db);
  if (pending.length > 0) {
    logger.error({ pending }, 'database schema is not up to date');
    throw new Error(`The database has ${pending.length} pending migration(s); run \`npm run db:migrate\` first.`);
  }
}

/**
 * JSON bodies are kept as text and parsed by the MCP routes, so malformed JSON is answered as a
 * JSON-RPC parse error (400, -32700); any other content type is read and marked for a 415.
 */
function registerBodyParsers(app: NestFastifyApplication, bodyLimit: number): void {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (_req, body, done) => done(null, body));
  fastify.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req, _body, done) => done(null, UNSUPPORTED_BODY));
}

if (require.main === module) {
  startGateway().then(
    (gateway) => {
      const stop = () => void gateway.close().then(() => process.exit(0));
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    },
    (error: Error) => {
      console.error(error.message);
      process.exit(1);
    },
  );
}
