import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Browser } from 'playwright-core';
import { SecretBox } from '@switchboard/secrets';
import { connectMcpClient, eventually, launchBrowser } from '@switchboard/testing';
import { ConnectSeals, SHARED_SUBJECT, UpstreamCredentialStore } from '@switchboard/upstream-auth';
import { revokeAtUpstream, startOAuthCluster, type OAuthCluster } from './oauth-cluster';

/**
 * Upstream OAuth, shared mode, end to end (docs/upstream-oauth.md). Tenant B's remote-mcp
 * installation `up` federates tenant A's MCP URL on the same two-node cluster, and A's endpoint is
 * protected by the platform's own authorization server: so the platform is the OAuth client of
 * an upstream it also serves. A tenant admin of B connects in Chromium (A's consent page, signed
 * in with A's API key), B's clients call A's tools through the official SDK client, the token is
 * refreshed, and a grant revoked at A surfaces at B as the reconnect error and an audit event.
 * The connect ticket is made with the same library call the admin API route makes (the route
 * itself: apps/api/src/upstream-connections/upstream-connections.int-spec.ts).
 */

const CONNECT_TIMEOUT_MS = 60_000;
const text = (result: unknown) => ((result as { content: { type: string; text?: string }[] }).content[0]?.text ?? '');
const isError = (result: unknown) => (result as { isError?: boolean }).isError === true;

describe('remote-mcp with auth oauth (shared) against an upstream behind the platform authorization server', () => {
  let cluster: OAuthCluster;
  let browser: Browser;
  let store: UpstreamCredentialStore;
  let box: SecretBox;
  let a: { tenantId: string; apiKey: string };
  let b: { tenantId: string; apiKey: string };
  let installationId: string;
  let client: Client;
  const binding = () => ({ tenantId: b.tenantId, installationId, subject: SHARED_SUBJECT });
  const credential = () => cluster.prisma.upstreamCredential.findFirstOrThrow({ where: { tenantId: b.tenantId, installationId } });
  /** What the gateway sealed, opened with the same AAD (only a test with the key can). */
  const sealedTokens = async () => box.decrypt((await credential()).sealed!, `upstream-credential/tokens/v1:${b.tenantId}:${installationId}:`) as { accessToken: string; refreshToken: string; client: { client_id: string } };
  const connectUrl = async () => `${cluster.proxy.url}/oauth/upstream/connect?ticket=${encodeURIComponent((await store.prepareConnect(binding())).ticket)}`;

  beforeAll(async () => {
    cluster = await startOAuthCluster('upstream_oauth', { OUTBOUND_ALLOW_CIDRS: '127.0.0.1/32' });
    box = new SecretBox({ current: cluster.secretsKey });
    store = new UpstreamCredentialStore(cluster.prisma, box, new ConnectSeals({ current: cluster.secretsKey }));
    a = await cluster.seedTenant('upstream-a', 'Upstream A');
    b = await cluster.seedTenant('front-b', 'Front B');
    installationId = (
      await cluster.prisma.pluginInstallation.create({ data: { tenantId: b.tenantId, plugin: 'remote-mcp', name: 'up', config: { url: `${cluster.proxy.url}/t/upstream-a/mcp`, auth: 'oauth' } } })
    ).id;
    browser = await launchBrowser();
    client = await connectMcpClient(cluster.proxy.url, '/t/front-b', b.apiKey, 'streamable-http');
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    await browser?.close();
    await cluster?.close();
  });

  /** The admin in the browser: opens the connect URL, signs in on A's consent page, approves, lands on B's callback page. */
  async function connectInBrowser(url: string): Promise<{ callbackUrl: string; body: string; reopen: (url: string) => Promise<{ status: number; body: string }> }> {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(url);
    await page.getByLabel('API key of Upstream A').fill(a.apiKey);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${cluster.proxy.url}/oauth/upstream/callback**`, { timeout: CONNECT_TIMEOUT_MS });
    const body = (await page.textContent('body')) ?? '';
    const callbackUrl = page.url();
    return {
      callbackUrl,
      body,
      // The same browser (its cookies) opening another URL later, then closed.
      reopen: async (again) => {
        const response = await page.goto(again);
        const answer = { status: response?.status() ?? 0, body: (await page.textContent('body')) ?? '' };
        await context.close();
        return answer;
      },
    };
  }

  it('lists none of the upstream\'s tools and explains nothing is connected before an admin connects', async () => {
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names.filter((name) => name.startsWith('up__'))).toEqual([]);
    expect((await credential().catch(() => null))?.status ?? 'none').not.toBe('connected');
  });

  it('publishes the platform\'s client metadata document, and refuses a connect without a valid ticket', async () => {
    const document = await (await fetch(`${cluster.proxy.url}/oauth/client-metadata.json`)).json();
    expect(document).toMatchObject({
      client_id: `${cluster.proxy.url}/oauth/client-metadata.json`,
      redirect_uris: [`${cluster.proxy.url}/oauth/upstream/callback`],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    });
    for (const query of ['', '?ticket=', '?ticket=v1.forged.ticket.value.x']) {
      const res = await fetch(`${cluster.proxy.url}/oauth/upstream/connect${query}`, { redirect: 'manual' });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    }
  });

  it('connects in the browser (discovery, registration, PKCE, resource), then B calls A\'s tools; a replayed callback or ticket does nothing', async () => {
    const ticketUrl = await connectUrl();
    const connected = await connectInBrowser(ticketUrl);
    expect(connected.body).toContain('Upstream connected');
    const row = await credential();
    expect(row.status).toBe('connected');
    expect(row.pendingNonce).toBeNull();
    // The tokens are sealed: the row holds neither in clear.
    const tokens = await sealedTokens();
    expect(JSON.stringify(row)).not.toContain(tokens.accessToken);
    expect(JSON.stringify(row)).not.toContain(tokens.refreshToken);
    // A's grant is for A's MCP URL (RFC 8707), made to the platform's registered client.
    const grant = await cluster.prisma.oAuthGrant.findFirstOrThrow({ where: { tenantId: a.tenantId, clientId: tokens.client.client_id } });
    expect(grant.resource).toBe(`${cluster.proxy.url}/t/upstream-a/mcp`);

    // The same callback again (state replay, same browser and cookie): refused, the credential untouched.
    const replay = await connected.reopen(connected.callbackUrl);
    expect(replay.status).toBe(400);
    expect(replay.body).toContain('cannot be used');
    expect((await sealedTokens()).accessToken).toBe(tokens.accessToken);
    // The used ticket again: refused before any outbound request (no second registration at A).
    const clientsBefore = await cluster.prisma.oAuthClient.count();
    const again = await fetch(ticketUrl, { redirect: 'manual' });
    expect(again.status).toBe(400);
    expect(await cluster.prisma.oAuthClient.count()).toBe(clientsBefore);
    expect(await cluster.prisma.oAuthGrant.findUniqueOrThrow({ where: { id: grant.id } })).toMatchObject({ revokedAt: null });

    await eventually(async () => (await client.listTools()).tools.some((tool) => tool.name === 'up__echo__echo'), 20_000);
    const result = await client.callTool({ name: 'up__echo__echo', arguments: { text: 'through oauth' } });
    expect([isError(result), text(result)]).toEqual([false, 'through oauth']);
    const audit = await cluster.prisma.auditEvent.findMany({ where: { tenantId: b.tenantId, action: 'upstream-credential.connect' } });
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain(tokens.accessToken);
  }, 90_000);

  it('refreshes a token near expiry: concurrent calls through both nodes all succeed on one refresh at A (no refresh token reuse)', async () => {
    const before = await sealedTokens();
    await cluster.prisma.upstreamCredential.updateMany({ where: binding(), data: { expiresAt: new Date(Date.now() - 1_000) } });
    // Two sessions through the round-robin balancer: one on each node, each with its own plugin state.
    const second = await connectMcpClient(cluster.proxy.url, '/t/front-b', b.apiKey, 'streamable-http');
    try {
      const results = await Promise.all([client, second, client, second].map((c, i) => c.callTool({ name: 'up__echo__echo', arguments: { text: `call ${i}` } })));
      expect(results.map((r) => [isError(r), text(r)])).toEqual([0, 1, 2, 3].map((i) => [false, `call ${i}`]));
    } finally {
      await second.close();
    }
    const after = await sealedTokens();
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect((await credential()).expiresAt!.getTime()).toBeGreaterThan(Date.now());
    // A saw exactly one refresh: one used refresh token, and the grant is still alive (a reuse would have revoked it).
    const grant = await cluster.prisma.oAuthGrant.findFirstOrThrow({ where: { tenantId: a.tenantId, clientId: after.client.client_id } });
    expect(grant.revokedAt).toBeNull();
    expect(await cluster.prisma.oAuthRefreshToken.count({ where: { grantId: grant.id, usedAt: { not: null } } })).toBe(1);
  }, 60_000);

  it('a node that meets the row locked by another node\'s refresh waits, then uses the token that node stored (no second refresh)', async () => {
    const row = await credential();
    const before = await sealedTokens();
    const grant = await cluster.prisma.oAuthGrant.findFirstOrThrow({ where: { tenantId: a.tenantId, clientId: before.client.client_id } });
    const usedBefore = await cluster.prisma.oAuthRefreshToken.count({ where: { grantId: grant.id, usedAt: { not: null } } });
    await cluster.prisma.upstreamCredential.update({ where: { id: row.id }, data: { expiresAt: new Date(Date.now() - 1_000) } });
    // The test plays "the other node": it holds the row's lock, as a refresh in progress does.
    let locked!: () => void;
    let release!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    const otherNode = cluster.prisma.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT id FROM upstream_credentials WHERE id = ${row.id}::uuid FOR UPDATE`;
        locked();
        await released;
        // Its "refresh" stored a token good for an hour (the same one, still valid at A).
        await tx.upstreamCredential.update({ where: { id: row.id }, data: { expiresAt: new Date(Date.now() + 3_600_000) } });
      },
      { timeout: 60_000 },
    );
    await isLocked;
    const call = client.callTool({ name: 'up__echo__echo', arguments: { text: 'after the wait' } });
    // The gateway's refresh is blocked on the row lock (without it, this never happens and the call refreshes at A).
    await eventually(async () => {
      const waiting = await cluster.prisma.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`;
      return Number(waiting[0]!.n) > 0;
    }, 20_000);
    release();
    await otherNode;
    const result = await call;
    expect([isError(result), text(result)]).toEqual([false, 'after the wait']);
    expect((await sealedTokens()).accessToken).toBe(before.accessToken);
    expect(await cluster.prisma.oAuthRefreshToken.count({ where: { grantId: grant.id, usedAt: { not: null } } })).toBe(usedBefore);
  }, 60_000);

  it('a grant revoked at the upstream surfaces as the reconnect error and an audit event; tokens stay out of both', async () => {
    const tokens = await sealedTokens();
    expect(await revokeAtUpstream(cluster.proxy.url, tokens)).toBe(200);
    // The access token is refused (401) once the nodes heard of the revocation; the refresh then fails for good.
    let last: unknown;
    await eventually(async () => {
      last = await client.callTool({ name: 'up__echo__echo', arguments: { text: 'after revoke' } });
      return isError(last);
    }, 20_000);
    expect(text(last)).toMatch(/installation "up" needs reconnecting \(the upstream refused the refresh \(invalid_grant\)\)/);
    expect(text(last)).toContain(`POST /v1/tenants/${b.tenantId}/plugins/up/upstream-connection`);
    expect(text(last)).not.toContain(tokens.accessToken);
    const row = await credential();
    expect([row.status, row.sealed]).toEqual(['needs_reconnect', null]);
    const events = await cluster.prisma.auditEvent.findMany({ where: { tenantId: b.tenantId, action: 'upstream-credential.refresh-failed' } });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ targetId: installationId, details: { installation: 'up', subject: 'shared' } });
    expect(JSON.stringify(events)).not.toContain(tokens.refreshToken);
  }, 60_000);

  it('attacker: a state does not complete without the browser that started it, nor with the cookie of another installation\'s connect, nor tampered', async () => {
    // Begin a connect without following the redirect: the state and the browser binding cookie.
    const begun = await fetch(await connectUrl(), { redirect: 'manual' });
    expect(begun.status).toBe(302);
    const state = new URL(begun.headers.get('location')!).searchParams.get('state')!;
    const cookie = begun.headers.get('set-cookie')!.split(';')[0]!;
    const callback = (query: string, headers: Record<string, string> = {}) => fetch(`${cluster.proxy.url}/oauth/upstream/callback?${query}`, { headers, redirect: 'manual' });
    // Another browser (no cookie, or its own cookie from its own connect of another tenant's installation).
    expect((await callback(`state=${encodeURIComponent(state)}&code=x`)).status).toBe(400);
    const otherInstallation = await cluster.prisma.pluginInstallation.create({ data: { tenantId: a.tenantId, plugin: 'remote-mcp', name: 'mirror', config: { url: `${cluster.proxy.url}/t/front-b/mcp`, auth: 'oauth' } } });
    const otherTicket = (await store.prepareConnect({ tenantId: a.tenantId, installationId: otherInstallation.id, subject: SHARED_SUBJECT })).ticket;
    const otherBegun = await fetch(`${cluster.proxy.url}/oauth/upstream/connect?ticket=${encodeURIComponent(otherTicket)}`, { redirect: 'manual' });
    const otherCookie = otherBegun.headers.get('set-cookie')!.split(';')[0]!;
    expect((await callback(`state=${encodeURIComponent(state)}&code=x`, { cookie: otherCookie })).status).toBe(400);
    // A tampered state with the right cookie.
    expect((await callback(`state=${encodeURIComponent(state.slice(0, -4) + 'AAAA')}&code=x`, { cookie })).status).toBe(400);
    // Nothing of B's changed, and its connect under way is still the one to finish.
    expect((await credential()).status).toBe('needs_reconnect');
    expect((await credential()).pendingNonce).not.toBeNull();
    // The other installation's connect under way is untouched too: B's state did not complete it.
    expect(await cluster.prisma.upstreamCredential.findFirstOrThrow({ where: { installationId: otherInstallation.id } })).toMatchObject({ status: 'pending', sealed: null });
  });

  it('reconnecting in the browser brings the installation back', async () => {
    const connected = await connectInBrowser(await connectUrl());
    expect(connected.body).toContain('Upstream connected');
    await connected.reopen('about:blank');
    // The tool comes back once the `plugins.changed` event has reloaded this node's catalog, not with the callback's page.
    await eventually(async () => (await client.listTools()).tools.some((tool) => tool.name === 'up__echo__echo'), 20_000);
    const result = await client.callTool({ name: 'up__echo__echo', arguments: { text: 'back again' } });
    expect([isError(result), text(result)]).toEqual([false, 'back again']);
  }, 90_000);
});
