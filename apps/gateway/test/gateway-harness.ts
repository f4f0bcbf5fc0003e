import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { generateApiKey, TenantTokens } from '@switchboard/api-keys';
import { InProcessControlBus } from '@switchboard/coordination';
import type { PrismaClient } from '@switchboard/db';
import { keyIdOf, pluginSecretsAad, SecretBox, type KeyRing } from '@switchboard/secrets';
import { connectMcpClient, createMigratedDatabase, createTempDataDir, type McpTransportName } from '@switchboard/testing';
import { startGateway, type RunningGateway } from '../src/main';

/** Re-exported so specs keep importing their helpers from one harness. */
export { eventually } from '@switchboard/testing';

export const TESTKIT_PLUGIN = path.join(__dirname, 'fixtures', 'testkit-plugin');
export const LATCH_PLUGIN = path.join(__dirname, 'fixtures', 'latch-plugin');

export interface GatewayHarness {
  gateway: RunningGateway;
  prisma: PrismaClient;
  bus: InProcessControlBus;
  secretBox: SecretBox;
  tokens: TenantTokens;
  createTenant(slug: string): Promise<{ id: string; slug: string }>;
  issueKey(tenantId: string, options?: { plugins?: string[]; tools?: string[]; expiresAt?: Date }): Promise<{ token: string; id: string }>;
  /** `name`: the installation's name; default the plugin's. */
  install(tenantId: string, plugin: string, config?: Record<string, unknown>, secrets?: Record<string, unknown>, name?: string): Promise<void>;
  close(): Promise<void>;
}

/** A real gateway on a random port, over its own migrated Postgres database. */
export async function startHarness(label: string, env: Record<string, string> = {}): Promise<GatewayHarness> {
  const database = await createMigratedDatabase(label);
  const dataDir = createTempDataDir(label);
  const secretsKey = randomBytes(32);
  const pepper = randomBytes(32);
  const peppers: KeyRing = { current: { id: keyIdOf(pepper), key: pepper }, previous: [] };
  const bus = new InProcessControlBus();
  const gateway = await startGateway(
    {
      DATABASE_URL: database.test.url,
      GATEWAY_PORT: '0',
      // A free port of its own: test files run in parallel, the default 9091 would collide.
      GATEWAY_METRICS_PORT: '0',
      DATA_DIR: dataDir.dir,
      SECRETS_KEY: secretsKey.toString('base64'),
      KEY_PEPPER: pepper.toString('base64'),
      LOG_LEVEL: 'silent',
      PLUGINS: TESTKIT_PLUGIN,
      ...env,
    },
    { bus },
  );
  const prisma = database.db.prisma;
  const secretBox = new SecretBox({ current: secretsKey });
  return {
    gateway,
    prisma,
    bus,
    secretBox,
    tokens: new TenantTokens(peppers),
    createTenant: (slug) => prisma.tenant.create({ data: { slug, name: slug }, select: { id: true, slug: true } }),
    async issueKey(tenantId, options = {}) {
      const key = generateApiKey(peppers);
      const row = await prisma.apiKey.create({
        data: {
          tenantId,
          name: 'test',
          publicId: key.publicId,
          secretHash: key.secretHash,
          pepperId: key.pepperId,
          plugins: options.plugins ?? [],
          tools: options.tools ?? [],
          expiresAt: options.expiresAt ?? null,
          createdBy: 'test',
        },
      });
      return { token: key.token, id: row.id };
    },
    async install(tenantId, plugin, config = {}, secrets, name = plugin) {
      await prisma.pluginInstallation.create({
        data: {
          tenantId,
          name,
          plugin,
          config: config as never,
          secrets: secrets ? secretBox.encrypt(secrets, pluginSecretsAad(tenantId, name)) : null,
          secretsKeyId: secrets ? secretBox.currentKeyId : null,
        },
      });
    },
    async close() {
      await gateway.close();
      await database.close();
      dataDir.remove();
    },
  };
}

/**
 * Ends a client's session the way each transport does: a Streamable HTTP session lives until
 * DELETE (closing the client only drops its streams); a legacy SSE session ends with its stream.
 */
export async function disconnect(client: Client): Promise<void> {
  // A session the gateway already closed (revoked key) answers the DELETE with 401/404: fine.
  if (client.transport instanceof StreamableHTTPClientTransport) await client.transport.terminateSession().catch(() => undefined);
  await client.close();
}

export type TransportName = McpTransportName;

/** An official SDK client connected to a gateway endpoint with a bearer token. */
export const connectClient = connectMcpClient;
