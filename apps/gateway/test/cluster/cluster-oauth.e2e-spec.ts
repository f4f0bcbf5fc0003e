import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { publicJwkOf, signAccessToken, type SigningKey } from '../../src/auth/oauth-access-token';
import { eventually, GENEROUS_LIMITS, openRawSession, rawPost, sessionHeaders, startCluster, type Cluster } from './cluster-harness';

const MODERN = '2026-07-28';
/** Every node names the same public URL: the audience of a token is the same on all of them. */
const PUBLIC_URL = 'http://gateway.test';

/** A stateless 2026-07-28 tools/list on one node. */
function modernList(nodeUrl: string, token: string): Promise<Response> {
  return rawPost(
    new URL('/t/acme/mcp', nodeUrl).href,
    token,
    { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} } } },
    { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' },
  );
}

// An OAuth grant or key revoked once, on the control bus, is refused by every node within a
// second; a node started later reads the revocation from the database.
describe('OAuth access tokens across gateway nodes (cluster mode)', () => {
  let cluster: Cluster;
  let tenantId: string;
  let signing: SigningKey;

  beforeAll(async () => {
    cluster = await startCluster('oauth', { nodes: 2, env: { ...GENEROUS_LIMITS, PUBLIC_GATEWAY_URL: PUBLIC_URL } });
    tenantId = (await cluster.createTenant('acme')).id;
    await cluster.install(tenantId, 'testkit');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    signing = { kid: `e2e-${randomUUID()}`, key: privateKey };
    // Retired: it still verifies (its tokens live), but an authorization server would never sign with it (its private half is not sealed here).
    await cluster.prisma.oAuthSigningKey.create({ data: { id: signing.kid, publicJwk: publicJwkOf(signing) as object, privateKey: 'unused', retiredAt: new Date() } });
    await cluster.prisma.oAuthClient.create({ data: { id: 'sbc_e2e', kind: 'registered', name: 'e2e', redirectUris: ['http://127.0.0.1/cb'] } });
  }, 60_000);

  afterAll(async () => {
    await cluster?.close();
  });

  async function grantToken(keyId: string): Promise<{ token: string; grantId: string }> {
    const resource = `${PUBLIC_URL}/t/acme/mcp`;
    const grant = await cluster.prisma.oAuthGrant.create({ data: { tenantId, clientId: 'sbc_e2e', keyId, subject: `key:${keyId}`, scopes: ['mcp', 'plugin:testkit'], resource } });
    const now = Math.floor(Date.now() / 1000);
    const token = signAccessToken(
      { iss: PUBLIC_URL, aud: resource, sub: `key:${keyId}`, client_id: 'sbc_e2e', scope: 'mcp plugin:testkit', tenant: tenantId, grant: grant.id, key: keyId, iat: now, exp: now + 600, jti: randomUUID() },
      signing,
    );
    return { token, grantId: grant.id };
  }

  it('refuses a revoked grant on every node within a second, closing its session, and a node started later refuses it too', async () => {
    const key = await cluster.issueKey(tenantId);
    const { token, grantId } = await grantToken(key.id);
    const [first, second] = cluster.nodes.map((node) => node.url) as [string, string];
    for (const url of [first, second]) expect((await modernList(url, token)).status).toBe(200);
    const sessionId = await openRawSession(new URL('/t/acme/mcp', first).href, token);
    const listInSession = (url: string, credential = token) =>
      rawPost(new URL('/t/acme/mcp', url).href, credential, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, sessionHeaders(sessionId));
    expect((await listInSession(second)).status).toBe(200);
    // Another grant of the same person and key: the same binding, so it may use the session while it lives.
    const sibling = await grantToken(key.id);
    expect((await listInSession(second, sibling.token)).status).toBe(200);

    await cluster.prisma.oAuthGrant.update({ where: { id: grantId }, data: { revokedAt: new Date(), revokedReason: 'admin' } });
    const bus = await cluster.controlBus();
    const published = Date.now();
    await bus.publish({ type: 'oauth-grant.revoked', tenantId, grantId });
    await eventually(async () => (await Promise.all([first, second].map(async (url) => (await modernList(url, token)).status))).every((status) => status === 401));
    expect(Date.now() - published).toBeLessThan(1_000);
    expect((await listInSession(second)).status).toBe(401);
    // The session itself is gone on its owner: the sibling grant's valid token now finds nothing.
    await eventually(async () => (await listInSession(second, sibling.token)).status === 404);

    const late = await cluster.startNode(2, { PUBLIC_GATEWAY_URL: PUBLIC_URL });
    expect((await modernList(late.url, token)).status).toBe(401);
    const other = await grantToken(key.id);
    expect((await modernList(late.url, other.token)).status).toBe(200);
  }, 60_000);

  it("refuses every token of a revoked key on every node within a second", async () => {
    const key = await cluster.issueKey(tenantId);
    const { token } = await grantToken(key.id);
    const urls = cluster.nodes.map((node) => node.url);
    for (const url of urls) expect((await modernList(url, token)).status).toBe(200);
    await cluster.prisma.apiKey.update({ where: { id: key.id }, data: { revokedAt: new Date() } });
    const bus = await cluster.controlBus();
    const published = Date.now();
    await bus.publish({ type: 'api-key.revoked', tenantId, keyId: key.id });
    await eventually(async () => (await Promise.all(urls.map(async (url) => (await modernList(url, token)).status))).every((status) => status === 401));
    expect(Date.now() - published).toBeLessThan(1_000);
  }, 60_000);
});
