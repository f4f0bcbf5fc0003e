import { ApiKeyResolver, parseApiKey } from '@switchboard/api-keys';
import { InProcessControlBus, InProcessSessionDirectory, type ControlEvent } from '@switchboard/coordination';
import { openDatabase } from '@switchboard/db';
import { SharedUsageSink } from '@switchboard/metering';
import { keyIdOf } from '@switchboard/secrets';
import { PUBLIC_GATEWAY_URL, startTestApi, type TestApi } from '../testing/api-test-harness';

describe('API keys API', () => {
  let t: TestApi;
  // The bus a gateway started in the same process (`npm start`) would share with the API.
  const bus = new InProcessControlBus();
  beforeAll(async () => {
    t = await startTestApi('api_keys_api', {}, { embedded: { controlBus: bus, usage: new SharedUsageSink(), sessions: new InProcessSessionDirectory() } });
    await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'acme', name: 'Acme' } });
  });
  afterAll(async () => {
    await t.close();
  });

  const admin = (method: string, path: string, body?: unknown) => t.request(method, path, { token: t.platformToken, body });
  const issue = (body: object = { name: 'ci' }) => admin('POST', '/v1/tenants/acme/api-keys', body);
  const mintWith = (secret: string, body: object = { subject: 'user-1' }) => t.request('POST', '/v1/tokens', { token: secret, body });

  it('issues a key with its secret, MCP URLs and ready client snippets', async () => {
    const res = await issue({ name: 'laptop', plugins: ['weather'], limits: { toolCallsPerMinute: 30 } });
    expect(res.status).toBe(201);
    const { key, secret, urls, clients } = res.body;
    expect(parseApiKey(secret)).not.toBeNull();
    expect(key).toMatchObject({ name: 'laptop', status: 'active', plugins: ['weather'], limits: { toolCallsPerMinute: 30 }, createdBy: 'admin' });
    expect(secret.startsWith(`${key.prefix}_`)).toBe(true);
    expect(urls).toEqual({ sse: `${PUBLIC_GATEWAY_URL}/t/acme/sse`, streamableHttp: `${PUBLIC_GATEWAY_URL}/t/acme/mcp` });
    expect(clients.cursor.mcpServers['switchboard-acme']).toEqual({ url: urls.streamableHttp, headers: { Authorization: `Bearer ${secret}` } });
    expect(clients.vscode.servers['switchboard-acme']).toEqual({ type: 'http', url: urls.streamableHttp, headers: { Authorization: `Bearer ${secret}` } });
    expect(clients.claudeDesktop.mcpServers['switchboard-acme']).toMatchObject({
      command: 'npx',
      args: expect.arrayContaining(['mcp-remote', urls.streamableHttp, '--header']),
      env: { AUTH_HEADER: `Bearer ${secret}` },
    });
  });

  it('never returns the secret or its hash again, in lists or single reads', async () => {
    const { body } = await issue({ name: 'secret-check' });
    const secretPart = body.secret.split('_')[2];
    const list = await admin('GET', '/v1/tenants/acme/api-keys');
    const one = await admin('GET', `/v1/tenants/acme/api-keys/${body.key.id}`);
    for (const res of [list, one]) {
      const text = JSON.stringify(res.body);
      expect(text).not.toContain(secretPart);
      expect(text).not.toMatch(/secretHash|secret_hash|pepper/i);
    }
    expect(list.body.items.find((k: { id: string }) => k.id === body.key.id)).toMatchObject({ prefix: body.key.prefix, lastUsedAt: null });
  });

  it('never writes a key, token or secret to the logs in a full key-issuing flow, and tags each line with its request', async () => {
    const upstreamSecret = 'wx-upstream-secret-for-log-check';
    await admin('PUT', '/v1/tenants/acme/plugins/weather', { config: { apiKey: upstreamSecret } });
    const { body } = await issue({ name: 'log-check', plugins: ['weather'] });
    await admin('GET', '/v1/tenants/acme/api-keys');
    const minted = await mintWith(body.secret);
    const rotated = await admin('POST', `/v1/tenants/acme/api-keys/${body.key.id}/rotate`, { gracePeriodSeconds: 0 });
    await admin('POST', `/v1/tenants/acme/api-keys/${rotated.body.key.id}/revoke`);
    await mintWith(body.secret); // refused: a wrong credential is logged as a failure, never quoted

    const logs = t.logs();
    expect(logs).toContain('"msg":"request"'); // the logs are being captured
    for (const secret of [body.secret, body.secret.split('_')[2], rotated.body.secret, minted.body.token, t.platformToken, t.adminSecret, upstreamSecret]) {
      expect(logs).not.toContain(secret);
    }
    expect(logs).not.toMatch(/sbk_[A-Za-z0-9]+_[A-Za-z0-9]+|eyJ[\w-]{8,}\.[\w-]{8,}/);

    const lines = logs.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const requests = lines.filter((line) => line['msg'] === 'request');
    expect(requests.every((line) => typeof line['requestId'] === 'string')).toBe(true);
    const keyRoutes = requests.filter((line) => String(line['path']).startsWith('/v1/tenants/acme/api-keys'));
    expect(keyRoutes.length).toBeGreaterThan(0);
    expect(keyRoutes.every((line) => line['tenant'] === 'acme')).toBe(true);
  });

  it('answers with a request id, keeping a plain one the caller sent and replacing anything else', async () => {
    const fresh = await admin('GET', '/v1/tenants/acme');
    expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await t.request('GET', '/v1/tenants/acme', { token: t.platformToken, headers: { 'x-request-id': 'trace-42.a' } });
    expect(kept.headers.get('x-request-id')).toBe('trace-42.a');
    expect(t.logs()).toContain('"requestId":"trace-42.a"');
    const forged = await t.request('GET', '/v1/tenants/acme', { token: t.platformToken, headers: { 'x-request-id': 'x" , "level":"fatal' } });
    expect(forged.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('refuses unknown plugins, past expiry dates and unknown fields, naming the fields', async () => {
    const res = await issue({ name: 'bad', plugins: ['weather', 'nope'], expiresAt: '2001-01-01T00:00:00Z' });
    expect(res.status).toBe(400);
    const wrong = await issue({ name: 'bad', expiresAt: 'tomorrow', owner: 'me' });
    expect(wrong.body.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual(['expiresAt', 'owner']);
    const plugins = await issue({ name: 'bad', plugins: ['weather', 'nope'] });
    expect(plugins.body.error.details.issues).toEqual([{ path: 'plugins.1', message: expect.stringContaining('nope') }]);
  });

  it('verifies an issued key: it can mint a tenant token for an end user', async () => {
    const { body } = await issue({ name: 'backend', plugins: ['weather', 'echo-lite'] });
    const res = await mintWith(body.secret, { subject: 'user-42', ttlSeconds: 600, plugins: ['weather'] });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ tokenType: 'Bearer', token: expect.stringMatching(/^eyJ/) });
    const claims = JSON.parse(Buffer.from(res.body.token.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ iss: 'switchboard', aud: 'switchboard-gateway', sub: 'user-42', key: body.key.id, plugins: ['weather'] });
  });

  it('does not let a tenant token widen the plugins of its key', async () => {
    const { body } = await issue({ name: 'narrow', plugins: ['weather'] });
    const res = await mintWith(body.secret, { subject: 'u', plugins: ['echo-lite'] });
    expect([res.status, res.body.error.code, res.body.error.details.issues[0].path]).toEqual([400, 'PLUGIN_NOT_ALLOWED', 'plugins.0']);
    expect((await mintWith(body.secret, { subject: 'u', ttlSeconds: 7200 })).status).toBe(400);
  });

  it('does not accept an admin JWT, a garbage key or a key with a wrong secret for minting tokens', async () => {
    expect((await mintWith(t.platformToken)).status).toBe(401);
    expect((await mintWith('sbk_garbage')).body.error.details.reason).toBe('malformed');
    const { body } = await issue({ name: 'victim' });
    const guessed = body.secret.slice(0, -12) + 'AAAAAAAAAAAA';
    expect((await mintWith(guessed)).status).toBe(401);
  });

  it('revokes a key: it stops working at once, and revoking again changes nothing', async () => {
    const { body } = await issue({ name: 'to-revoke' });
    expect((await mintWith(body.secret)).status).toBe(201);
    const revoked = await admin('POST', `/v1/tenants/acme/api-keys/${body.key.id}/revoke`);
    expect(revoked.body).toMatchObject({ status: 'revoked', revokedAt: expect.any(String) });
    const refused = await mintWith(body.secret);
    expect([refused.status, refused.body.error.details.reason]).toEqual([401, 'revoked']);
    const again = await admin('POST', `/v1/tenants/acme/api-keys/${body.key.id}/revoke`);
    expect(again.body.revokedAt).toBe(revoked.body.revokedAt);
  });

  it('stops an expired key when its time comes', async () => {
    const expiresAt = new Date(t.clock.now() + 60_000).toISOString();
    const { body } = await issue({ name: 'short', expiresAt });
    expect((await mintWith(body.secret)).status).toBe(201);
    t.clock.advance(61_000);
    const refused = await mintWith(body.secret);
    expect([refused.status, refused.body.error.details.reason]).toEqual([401, 'expired']);
    expect((await admin('GET', `/v1/tenants/acme/api-keys/${body.key.id}`)).body.status).toBe('expired');
  });

  it('rotates a key without grace: the old key stops at once, the new one works', async () => {
    const { body: old } = await issue({ name: 'rotate-now', plugins: ['weather'] });
    const rotated = await admin('POST', `/v1/tenants/acme/api-keys/${old.key.id}/rotate`, {});
    expect(rotated.status).toBe(201);
    expect(rotated.body.key).toMatchObject({ name: 'rotate-now', plugins: ['weather'], rotatedFromId: old.key.id, status: 'active' });
    expect(rotated.body.secret).not.toBe(old.secret);
    expect((await mintWith(old.secret)).body.error.details.reason).toBe('revoked');
    expect((await mintWith(rotated.body.secret)).status).toBe(201);
  });

  it('rotates a key with a grace period: both work until the grace period ends', async () => {
    const { body: old } = await issue({ name: 'rotate-grace' });
    expect((await mintWith(old.secret)).status).toBe(201); // now cached by the resolver
    const rotated = await admin('POST', `/v1/tenants/acme/api-keys/${old.key.id}/rotate`, { gracePeriodSeconds: 300 });
    expect((await mintWith(old.secret)).status).toBe(201);
    expect((await mintWith(rotated.body.secret)).status).toBe(201);
    t.clock.advance(301_000);
    expect((await mintWith(old.secret)).body.error.details.reason).toBe('expired');
    expect((await mintWith(rotated.body.secret)).status).toBe(201);
  });

  it('refuses to rotate a revoked key, and a grace period beyond a week', async () => {
    const { body } = await issue({ name: 'dead' });
    await admin('POST', `/v1/tenants/acme/api-keys/${body.key.id}/revoke`);
    const res = await admin('POST', `/v1/tenants/acme/api-keys/${body.key.id}/rotate`, {});
    expect([res.status, res.body.error.code]).toEqual([409, 'API_KEY_NOT_ACTIVE']);
    const { body: live } = await issue({ name: 'live' });
    const long = await admin('POST', `/v1/tenants/acme/api-keys/${live.key.id}/rotate`, { gracePeriodSeconds: 8 * 24 * 3600 });
    expect(long.body.error.details.issues[0].path).toBe('gracePeriodSeconds');
  });

  it('records issue, revoke and rotate in the audit log without secrets', async () => {
    const { body } = await issue({ name: 'audited' });
    await admin('POST', `/v1/tenants/acme/api-keys/${body.key.id}/rotate`, { gracePeriodSeconds: 10 });
    const audit = await admin('GET', '/v1/tenants/acme/audit?limit=2');
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(['api-key.rotate', 'api-key.issue']);
    expect(audit.body.items[0]).toMatchObject({ targetId: body.key.id, details: { gracePeriodSeconds: 10, oldPrefix: body.key.prefix } });
    expect(JSON.stringify(audit.body)).not.toContain(body.secret.split('_')[2]);
  });

  it('tells gateways about revocations and rotations, so a gateway cache drops the key at once', async () => {
    // A gateway in the same process: its own resolver with a long cache, attached to the bus it shares with the API.
    const db = openDatabase({ url: t.databaseUrl, dataDir: '' });
    const pepper = Buffer.from(t.keyPepper, 'base64');
    const gateway = new ApiKeyResolver(db.prisma, { current: { id: keyIdOf(pepper), key: pepper }, previous: [] }, { cacheTtlMs: 3_600_000 });
    const events: ControlEvent[] = [];
    const unsubscribe = bus.subscribe((event) => events.push(event));
    const detach = gateway.attach(bus);
    try {
      const { body } = await issue({ name: 'gateway-cached' });
      expect((await gateway.resolve(body.secret)).ok).toBe(true);
      await admin('POST', `/v1/tenants/acme/api-keys/${body.key.id}/revoke`);
      expect(events).toContainEqual({ type: 'api-key.revoked', tenantId: body.key.tenantId, keyId: body.key.id });
      expect(await gateway.resolve(body.secret)).toEqual({ ok: false, reason: 'revoked' });
    } finally {
      detach();
      unsubscribe();
      await db.close();
    }
  });

  describe('installation names and tool allowlists', () => {
    it('lets a key name an installation of the tenant made under another name', async () => {
      await admin('PUT', '/v1/tenants/acme/plugins/forecast-eu', { plugin: 'weather', config: { apiKey: 'wx-upstream-key-eu-0123456789' } });
      const res = await issue({ name: 'eu-only', plugins: ['forecast-eu'] });
      expect(res.status).toBe(201);
      expect(res.body.key.plugins).toEqual(['forecast-eu']);
      // Another tenant's installation name is not this tenant's.
      await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'initech', name: 'Initech' } });
      const other = await admin('POST', '/v1/tenants/initech/api-keys', { name: 'x', plugins: ['forecast-eu'] });
      expect([other.status, other.body.error.details.issues[0].path]).toEqual([400, 'plugins.0']);
    });

    it('lets a tenant token narrow an unrestricted key to an installation made under another name', async () => {
      const { body } = await issue({ name: 'backend-all' });
      const res = await mintWith(body.secret, { subject: 'u', plugins: ['forecast-eu'] });
      expect(res.status).toBe(201);
      const refused = await mintWith(body.secret, { subject: 'u', plugins: ['forecast-us'] });
      expect([refused.status, refused.body.error.code, refused.body.error.details.issues[0].path]).toEqual([400, 'PLUGIN_NOT_ALLOWED', 'plugins.0']);
    });

    it('issues a key with a tool allowlist, shows it, and keeps it on rotation', async () => {
      const res = await issue({ name: 'one-tool', plugins: ['forecast-eu'], tools: ['forecast-eu__forecast'] });
      expect(res.status).toBe(201);
      expect(res.body.key).toMatchObject({ plugins: ['forecast-eu'], tools: ['forecast-eu__forecast'] });
      expect((await admin('GET', `/v1/tenants/acme/api-keys/${res.body.key.id}`)).body.tools).toEqual(['forecast-eu__forecast']);
      const rotated = await admin('POST', `/v1/tenants/acme/api-keys/${res.body.key.id}/rotate`, {});
      expect(rotated.body.key.tools).toEqual(['forecast-eu__forecast']);
      // No allowlist: every tool, shown as an empty list.
      expect((await issue({ name: 'all-tools' })).body.key.tools).toEqual([]);
    });

    it('allows a well-formed tool name the tenant does not have (yet): upstream tool lists change', async () => {
      expect((await issue({ name: 'future', tools: ['github__search'] })).status).toBe(201);
    });

    it('refuses malformed tool names, duplicates, and tools of installations outside the key, naming each entry', async () => {
      const malformed = await issue({ name: 'bad', tools: ['forecast', 'Forecast__x', '__forecast', 'forecast-eu__'] });
      expect(malformed.status).toBe(400);
      expect(malformed.body.error.details.issues.map((i: { path: string }) => i.path)).toEqual(['tools.0', 'tools.1', 'tools.2', 'tools.3']);
      const twice = await issue({ name: 'bad', tools: ['a__b', 'a__b'] });
      expect([twice.status, twice.body.error.details.issues[0].path]).toEqual([400, 'tools']);
      const outside = await issue({ name: 'bad', plugins: ['forecast-eu'], tools: ['forecast-eu__forecast', 'weather__forecast'] });
      expect(outside.body.error.details.issues).toEqual([{ path: 'tools.1', message: expect.stringContaining('weather') }]);
    });
  });
});
