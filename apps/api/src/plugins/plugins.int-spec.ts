import { openDatabase, type Database } from '@switchboard/db';
import { SecretBox } from '@switchboard/secrets';
import { startTestApi, type TestApi } from '../testing/api-test-harness';

const UPSTREAM_KEY = 'wx-upstream-key-0123456789';

describe('plugins API', () => {
  let t: TestApi;
  let db: Database;
  beforeAll(async () => {
    t = await startTestApi('plugins_api');
    await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'acme', name: 'Acme' } });
    db = openDatabase({ url: t.databaseUrl, dataDir: '' });
  });
  afterAll(async () => {
    await db.close();
    await t.close();
  });

  const admin = (method: string, path: string, body?: unknown) => t.request(method, path, { token: t.platformToken, body });
  const storedRow = () => db.prisma.pluginInstallation.findFirstOrThrow({ where: { plugin: 'weather', tenant: { slug: 'acme' } } });

  it('lists the catalog with versions, tools and config schemas that mark secrets write-only', async () => {
    const res = await admin('GET', '/v1/plugins');
    const weather = res.body.items.find((p: { name: string }) => p.name === 'weather');
    expect(weather).toMatchObject({ version: '0.1.0', secretFields: ['apiKey'], tools: [{ name: 'forecast', inputSchema: expect.any(Object) }] });
    expect(weather.configSchema.properties.apiKey.writeOnly).toBe(true);
  });

  it('installs a plugin with config, encrypting the secret field and never returning it', async () => {
    const res = await admin('PUT', '/v1/tenants/acme/plugins/weather', { config: { apiKey: UPSTREAM_KEY, units: 'imperial' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ plugin: 'weather', enabled: true, config: { units: 'imperial' }, secrets: { apiKey: { set: true } } });
    expect(JSON.stringify(res.body)).not.toContain(UPSTREAM_KEY);
    const row = await storedRow();
    expect(row.secrets).toMatch(/^v1\.[0-9a-f]{8}\./);
    expect(JSON.stringify(row)).not.toContain(UPSTREAM_KEY);
    expect(row.secretsKeyId).toBe(row.secrets!.split('.')[1]);
  });

  it('keeps a stored secret when a PATCH or PUT omits it', async () => {
    const before = (await storedRow()).secrets;
    const patched = await admin('PATCH', '/v1/tenants/acme/plugins/weather', { config: { units: 'metric' } });
    expect(patched.body).toMatchObject({ config: { units: 'metric' }, secrets: { apiKey: { set: true } } });
    const put = await admin('PUT', '/v1/tenants/acme/plugins/weather', { config: { region: { country: 'NL' } } });
    expect(put.body).toMatchObject({ config: { units: 'metric', region: { country: 'NL' } }, secrets: { apiKey: { set: true } } });
    // Re-sealed with a fresh IV on every write, holding the same secret.
    const row = await storedRow();
    expect(row.secrets).not.toBe(before);
    expect(new SecretBox({ current: t.secretsKey }).decrypt(row.secrets!, `${row.tenantId}:weather`)).toEqual({ apiKey: UPSTREAM_KEY });
  });

  it('rejects config that does not match the plugin schema, with field paths and without echoing secrets', async () => {
    const res = await admin('PATCH', '/v1/tenants/acme/plugins/weather', { config: { units: 'kelvin', apiKey: 'short', region: { country: 'NLD' } } });
    expect([res.status, res.body.error.code]).toEqual([400, 'INVALID_PLUGIN_CONFIG']);
    const paths = res.body.error.details.issues.map((i: { path: string }) => i.path).sort();
    expect(paths).toEqual(['config.apiKey', 'config.region.country', 'config.units']);
    expect(JSON.stringify(res.body)).not.toContain('"short"');
  });

  it('requires the secret on first install', async () => {
    await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'newco', name: 'N' } });
    const res = await admin('PUT', '/v1/tenants/newco/plugins/weather', { config: {} });
    expect(res.body.error.details.issues).toEqual([{ path: 'config.apiKey', message: expect.any(String) }]);
  });

  it('disables and re-enables a plugin, and rejects unknown body fields', async () => {
    expect((await admin('PATCH', '/v1/tenants/acme/plugins/weather', { enabled: false })).body.enabled).toBe(false);
    expect((await admin('GET', '/v1/tenants/acme/plugins')).body.items).toEqual([expect.objectContaining({ plugin: 'weather', enabled: false })]);
    expect((await admin('PATCH', '/v1/tenants/acme/plugins/weather', { enabled: true })).body.enabled).toBe(true);
    const bad = await admin('PATCH', '/v1/tenants/acme/plugins/weather', { enabled: 'yes', colour: 'red' });
    expect(bad.body.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual(['colour', 'enabled']);
  });

  it('answers 404 for a plugin the platform does not have, and for one the tenant has not installed', async () => {
    expect((await admin('PUT', '/v1/tenants/acme/plugins/nope', { config: {} })).body.error.code).toBe('PLUGIN_NOT_FOUND');
    expect((await admin('PATCH', '/v1/tenants/acme/plugins/echo-lite', { enabled: false })).body.error.code).toBe('PLUGIN_NOT_INSTALLED');
  });

  it('never writes plugin secrets to the logs or the audit log', async () => {
    const audit = await admin('GET', '/v1/tenants/acme/audit');
    expect(audit.body.items.find((e: { action: string }) => e.action === 'plugin.install')).toMatchObject({
      details: { secretFieldsSet: ['apiKey'], configFields: expect.arrayContaining(['units']) },
    });
    expect(JSON.stringify(audit.body)).not.toContain(UPSTREAM_KEY);
    expect(t.logs()).not.toContain(UPSTREAM_KEY);
  });

  it('uninstalls a plugin', async () => {
    expect((await admin('DELETE', '/v1/tenants/acme/plugins/weather')).status).toBe(204);
    expect((await admin('GET', '/v1/tenants/acme/plugins/weather')).status).toBe(404);
  });

  describe('named installations', () => {
    const box = () => new SecretBox({ current: t.secretsKey });
    const rowOf = (name: string) => db.prisma.pluginInstallation.findFirstOrThrow({ where: { name, tenant: { slug: 'multi' } } });

    beforeAll(async () => {
      await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'multi', name: 'Multi' } });
    });

    it('installs one plugin twice under different names, each with its own config and secrets', async () => {
      const eu = await admin('PUT', '/v1/tenants/multi/plugins/weather-eu', { plugin: 'weather', config: { apiKey: `${UPSTREAM_KEY}-eu`, units: 'metric' } });
      const us = await admin('PUT', '/v1/tenants/multi/plugins/weather-us', { plugin: 'weather', config: { apiKey: `${UPSTREAM_KEY}-us`, units: 'imperial' } });
      expect([eu.status, us.status]).toEqual([200, 200]);
      expect(eu.body).toMatchObject({ name: 'weather-eu', plugin: 'weather', config: { units: 'metric' }, secrets: { apiKey: { set: true } } });
      const list = await admin('GET', '/v1/tenants/multi/plugins');
      expect(list.body.items.map((i: { name: string; plugin: string }) => [i.name, i.plugin])).toEqual([
        ['weather-eu', 'weather'],
        ['weather-us', 'weather'],
      ]);
      // Each envelope is bound to its installation: one copied onto the other's row does not open.
      const [euRow, usRow] = [await rowOf('weather-eu'), await rowOf('weather-us')];
      expect(box().decrypt(euRow.secrets!, `${euRow.tenantId}:weather-eu`)).toEqual({ apiKey: `${UPSTREAM_KEY}-eu` });
      expect(() => box().decrypt(euRow.secrets!, `${usRow.tenantId}:weather-us`)).toThrow();
    });

    it('keeps PUT …/plugins/:plugin as "the installation named after its plugin", beside the named ones', async () => {
      const res = await admin('PUT', '/v1/tenants/multi/plugins/weather', { config: { apiKey: UPSTREAM_KEY } });
      expect(res.body).toMatchObject({ name: 'weather', plugin: 'weather' });
      expect((await admin('GET', '/v1/tenants/multi/plugins')).body.items).toHaveLength(3);
    });

    it('patches, reads and uninstalls one installation by its name, leaving the others', async () => {
      const patched = await admin('PATCH', '/v1/tenants/multi/plugins/weather-us', { enabled: false, config: { units: 'metric' } });
      expect(patched.body).toMatchObject({ name: 'weather-us', plugin: 'weather', enabled: false, config: { units: 'metric' }, secrets: { apiKey: { set: true } } });
      expect((await admin('GET', '/v1/tenants/multi/plugins/weather-eu')).body).toMatchObject({ enabled: true, config: { units: 'metric' } });
      expect((await admin('DELETE', '/v1/tenants/multi/plugins/weather-us')).status).toBe(204);
      expect((await admin('GET', '/v1/tenants/multi/plugins/weather-us')).status).toBe(404);
      expect((await admin('GET', '/v1/tenants/multi/plugins/weather-eu')).status).toBe(200);
    });

    it('answers 409 naming `name` when the name is taken by an installation of another plugin, and changes nothing', async () => {
      const res = await admin('PUT', '/v1/tenants/multi/plugins/weather-eu', { plugin: 'echo-lite' });
      expect([res.status, res.body.error.code]).toEqual([409, 'INSTALLATION_NAME_TAKEN']);
      expect(res.body.error.details.issues).toEqual([{ path: 'name', message: expect.stringContaining('weather') }]);
      expect(await rowOf('weather-eu')).toMatchObject({ plugin: 'weather' });
      // The default name of another plugin is a name like any other.
      const squat = await admin('PUT', '/v1/tenants/multi/plugins/echo-lite', { plugin: 'weather', config: { apiKey: UPSTREAM_KEY } });
      expect(squat.status).toBe(200);
      expect((await admin('PUT', '/v1/tenants/multi/plugins/echo-lite', { plugin: 'echo-lite' })).status).toBe(409);
    });

    it('reconfigures a named installation by its name alone: the body need not repeat its plugin', async () => {
      const res = await admin('PUT', '/v1/tenants/multi/plugins/weather-eu', { config: { units: 'imperial' } });
      expect(res.body).toMatchObject({ name: 'weather-eu', plugin: 'weather', config: { units: 'imperial' }, secrets: { apiKey: { set: true } } });
    });

    it.each([
      ['upper case', 'Weather-EU'],
      ['the namespace separator', 'weather__eu'],
      ['an underscore', 'weather_eu'],
      ['more than 40 characters', 'w'.repeat(41)],
      ['an edge hyphen', '-weather'],
    ])('refuses a name with %s, with a 400 naming `name`', async (_what, name) => {
      const res = await admin('PUT', `/v1/tenants/multi/plugins/${name}`, { plugin: 'weather', config: { apiKey: UPSTREAM_KEY } });
      expect([res.status, res.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
      expect(res.body.error.details.issues).toEqual([{ path: 'name', message: expect.any(String) }]);
    });

    it('answers 404 naming `plugin` when the plugin to install under a name does not exist', async () => {
      const res = await admin('PUT', '/v1/tenants/multi/plugins/github', { plugin: 'no-such-plugin' });
      expect([res.status, res.body.error.code, res.body.error.details.issues[0].path]).toEqual([404, 'PLUGIN_NOT_FOUND', 'plugin']);
    });

    it('audits each installation by its name, with its plugin', async () => {
      const audit = await admin('GET', '/v1/tenants/multi/audit');
      const of = (action: string, targetId: string) => audit.body.items.find((e: { action: string; targetId: string }) => e.action === action && e.targetId === targetId);
      expect(of('plugin.install', 'weather-eu')).toMatchObject({ targetType: 'plugin', details: { plugin: 'weather' } });
      expect(of('plugin.uninstall', 'weather-us')).toMatchObject({ details: { plugin: 'weather' } });
    });
  });
});
