import { randomBytes } from 'node:crypto';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { generateApiKey } from '@switchboard/api-keys';
import type { PrismaClient } from '@switchboard/db';
import { keyIdOf, type KeyRing } from '@switchboard/secrets';
import { createMigratedDatabase, createTempDataDir, testRedisUrl } from '@switchboard/testing';
import { startGateway, type RunningGateway } from '../src/main';
import { TESTKIT_PLUGIN } from './gateway-harness';
import { startRoundRobinProxy, type ObservedRequest, type RoundRobinProxy } from './round-robin-proxy';

/**
 * What the OAuth sign-in tests share: two gateway nodes (Redis cluster, one test database) behind
 * a non-sticky round-robin balancer whose URL is PUBLIC_GATEWAY_URL, so every step of a sign-in
 * may land on either node; and an OAuth client provider kept in memory, as a desktop client has.
 */
export interface OAuthCluster {
  proxy: RoundRobinProxy;
  nodes: RunningGateway[];
  prisma: PrismaClient;
  /** The nodes' SECRETS_KEY, to seal what a test writes straight into the database. */
  secretsKey: Buffer;
  /** A tenant with the echo plugin and an API key of it (the key that signs in on the consent page). */
  seedTenant(slug: string, name: string): Promise<{ tenantId: string; apiKey: string }>;
  /** Another API key of a tenant (another person): its token, and the id OAuth grants made with it name (`key:<id>`). */
  issueKey(tenantId: string, name: string): Promise<{ id: string; token: string }>;
  close(): Promise<void>;
}

/** @param seen when given, the balancer writes down every request it forwards there (round-robin-proxy.ts). */
export async function startOAuthCluster(label: string, env: Record<string, string> = {}, seen?: ObservedRequest[]): Promise<OAuthCluster> {
  const database = await createMigratedDatabase(`gw_${label}`);
  const dataDir = createTempDataDir(`gw_${label}`);
  const nodes: RunningGateway[] = [];
  const proxy = await startRoundRobinProxy(() => nodes.map((n) => n.url), undefined, seen);
  const close = async () => {
    await proxy.close();
    await Promise.all(nodes.map((n) => n.close()));
    await database.close();
    dataDir.remove();
  };
  const pepper = randomBytes(32);
  const secretsKey = randomBytes(32);
  const nodeEnv = {
    DATABASE_URL: database.test.url,
    GATEWAY_PORT: '0',
    GATEWAY_METRICS_PORT: 'off',
    DATA_DIR: dataDir.dir,
    SECRETS_KEY: secretsKey.toString('base64'),
    KEY_PEPPER: pepper.toString('base64'),
    LOG_LEVEL: 'silent',
    PLUGINS: TESTKIT_PLUGIN,
    PUBLIC_GATEWAY_URL: proxy.url,
    REDIS_URL: testRedisUrl(),
    CLUSTER_SECRET: randomBytes(32).toString('base64'),
    REDIS_PREFIX: `${label.replace(/[^a-z0-9]/gi, '')}${randomBytes(4).toString('hex')}`,
    ...env,
  };
  try {
    // One at a time into `nodes`, so close() stops a node that started even if the other did not.
    for (const node of ['a', 'b']) nodes.push(await startGateway({ ...nodeEnv, NODE_ID: `gw-${label}-${node}` }));
  } catch (error) {
    await close();
    throw error;
  }
  const prisma = database.db.prisma;
  const peppers: KeyRing = { current: { id: keyIdOf(pepper), key: pepper }, previous: [] };
  const issueKey = async (tenantId: string, name: string) => {
    const key = generateApiKey(peppers);
    const row = await prisma.apiKey.create({ data: { tenantId, name, publicId: key.publicId, secretHash: key.secretHash, pepperId: key.pepperId, plugins: [], createdBy: 'test' } });
    return { id: row.id, token: key.token };
  };
  return {
    proxy,
    nodes,
    prisma,
    secretsKey,
    async seedTenant(slug, name) {
      const tenant = await prisma.tenant.create({ data: { slug, name } });
      await prisma.pluginInstallation.create({ data: { tenantId: tenant.id, plugin: 'echo' } });
      return { tenantId: tenant.id, apiKey: (await issueKey(tenant.id, 'k')).token };
    },
    issueKey,
    close,
  };
}

/** An OAuthClientProvider as a desktop client implements it, kept in memory; the redirect is the test's to catch. */
export class MemoryOAuthProvider implements OAuthClientProvider {
  client: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = '';
  authorizationUrl: URL | undefined;

  constructor(
    private readonly redirect: string,
    private readonly clientName: string,
    private readonly stateValue: string,
  ) {}

  get redirectUrl(): string {
    return this.redirect;
  }
  get clientMetadata(): OAuthClientMetadata {
    return { client_name: this.clientName, redirect_uris: [this.redirect], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  state = () => this.stateValue;
  clientInformation = () => this.client;
  saveClientInformation = (info: OAuthClientInformationMixed) => void (this.client = info);
  tokens = () => this.saved;
  saveTokens = (tokens: OAuthTokens) => void (this.saved = tokens);
  redirectToAuthorization = (url: URL) => void (this.authorizationUrl = url);
  saveCodeVerifier = (verifier: string) => void (this.verifier = verifier);
  codeVerifier = () => this.verifier;
}

/**
 * The person's part, without a browser: open the consent page the client sent them to, paste the
 * API key, approve `plugins` (default: every installation offered). The redirect back to the
 * client, and what the page offered.
 */
export async function approveWithKey(url: URL, apiKey: string, plugins?: string[]): Promise<{ callback: URL; offered: string[] }> {
  const page = await fetch(url, { redirect: 'manual' });
  if (page.status !== 200) throw new Error(`consent page answered ${page.status}`);
  const html = await page.text();
  const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
  const sealed = /name="request" value="([^"]+)"/.exec(html)![1]!.replace(/&amp;/g, '&');
  const offered = [...html.matchAll(/name="plugin" value="([^"]+)"/g)].map((m) => m[1]!);
  const body = new URLSearchParams({ request: sealed, api_key: apiKey, decision: 'approve' });
  for (const plugin of plugins ?? offered) body.append('plugin', plugin);
  const answer = await fetch(new URL('/oauth/authorize', url), { method: 'POST', redirect: 'manual', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, body });
  if (answer.status !== 303) throw new Error(`approving answered ${answer.status}: ${await answer.text()}`);
  return { callback: new URL(answer.headers.get('location')!), offered };
}

/** Revokes an upstream grant at its authorization server (RFC 7009) by its refresh token, as the person would at the upstream. */
export async function revokeAtUpstream(authorizationServer: string, tokens: { refreshToken: string; client: { client_id: string } }): Promise<number> {
  const revoked = await fetch(`${authorizationServer}/oauth/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: tokens.refreshToken, client_id: tokens.client.client_id }),
  });
  return revoked.status;
}
