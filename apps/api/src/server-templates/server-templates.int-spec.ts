import { openDatabase, type Database } from '@switchboard/db';
import { SecretBox } from '@switchboard/secrets';
import { startTestApi, type TestApi } from '../testing/api-test-harness';

const GITHUB_TOKEN = 'ghp_tenant-secret-0123456789';
const template = {
  name: 'github',
  description: 'GitHub MCP server',
  command: '/usr/bin/node',
  args: ['/opt/github-mcp/index.js'],
  env: [
    { name: 'GITHUB_TOKEN', required: true, secret: true, description: 'personal access token' },
    { name: 'GITHUB_ORG' },
    { name: 'STATE_FILE', value: '{home}/state.json' },
  ],
};

describe('server templates API', () => {
  let t: TestApi;
  let db: Database;
  let acmeId: string;
  beforeAll(async () => {
    t = await startTestApi('server_templates');
    acmeId = (await t.request('POST', '/v1/tenants', { token: t.platformToken, body: { slug: 'acme', name: 'Acme' } })).body.id;
    db = openDatabase({ url: t.databaseUrl, dataDir: '' });
  });
  afterAll(async () => {
    await db.close();
    await t.close();
  });
  const admin = (method: string, path: string, body?: unknown) => t.request(method, path, { token: t.platformToken, body });

  it('creates a template and shows it in the plugin catalog with a config schema derived from its declarations', async () => {
    const created = await admin('POST', '/v1/server-templates', template);
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'github', kind: 'stdio', defaultMode: 'isolated', installations: 0 });
    const entry = (await admin('GET', '/v1/plugins')).body.items.find((p: { name: string }) => p.name === 'github');
    expect(entry).toMatchObject({ kind: 'server-template', secretFields: ['GITHUB_TOKEN'], tools: [] });
    expect(entry.configSchema).toMatchObject({
      properties: { GITHUB_TOKEN: { writeOnly: true, description: 'personal access token' }, GITHUB_ORG: { type: 'string' }, mode: { enum: ['isolated', 'shared'] } },
      required: ['GITHUB_TOKEN'],
      additionalProperties: false,
    });
    expect(entry.configSchema.properties.STATE_FILE).toBeUndefined();
  });

  it.each([
    ['PATH', /PATH is reserved/],
    ['NODE_OPTIONS', /NODE_\* is reserved/],
    ['LD_PRELOAD', /LD_\* is reserved/],
    ['DYLD_INSERT_LIBRARIES', /DYLD_\* is reserved/],
    ['PYTHONPATH', /PYTHON\* is reserved/],
    ['BASH_ENV', /BASH_ENV is reserved/],
    ['lower_case', /must match/],
  ])('refuses to declare %s, naming the field', async (name, reason) => {
    const res = await admin('POST', '/v1/server-templates', { ...template, name: 'evil', env: [{ name: 'OK_VAR' }, { name }] });
    expect([res.status, res.body.error.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(res.body.error.details.issues).toEqual([{ path: 'env.1.name', message: expect.stringMatching(reason) }]);
  });

  it('refuses a template named like a code plugin or an existing template, and non-kebab names', async () => {
    expect((await admin('POST', '/v1/server-templates', { ...template, name: 'weather' })).body.error.code).toBe('TEMPLATE_NAME_TAKEN');
    expect((await admin('POST', '/v1/server-templates', template)).body.error.code).toBe('TEMPLATE_NAME_TAKEN');
    expect((await admin('POST', '/v1/server-templates', { ...template, name: 'My_Server' })).body.error.details.issues[0].path).toBe('name');
  });

  it('lets only platform admins manage templates', async () => {
    const tenantAdmin = t.tenantAdminToken(acmeId);
    expect((await t.request('POST', '/v1/server-templates', { token: tenantAdmin, body: { ...template, name: 'mine' } })).status).toBe(403);
    expect((await t.request('GET', '/v1/server-templates', { token: tenantAdmin })).status).toBe(403);
  });

  it("shows a tenant admin the catalog it installs from, without the templates' command, arguments or fixed values", async () => {
    const bare = { ...template, name: 'bare-server', description: '', command: '/srv/internal/bin/mcp-bare', args: ['--db', 'postgres://internal-host/x'] };
    expect((await admin('POST', '/v1/server-templates', bare)).status).toBe(201);
    try {
      const res = await t.request('GET', '/v1/plugins', { token: t.tenantAdminToken(acmeId) });
      expect(res.status).toBe(200);
      const names = res.body.items.map((p: { name: string }) => p.name);
      expect(names).toEqual(expect.arrayContaining(['weather', 'github', 'bare-server']));
      const github = res.body.items.find((p: { name: string }) => p.name === 'github');
      expect(github).toMatchObject({ kind: 'server-template', description: 'GitHub MCP server', secretFields: ['GITHUB_TOKEN'] });
      expect(Object.keys(github.configSchema.properties).sort()).toEqual(['GITHUB_ORG', 'GITHUB_TOKEN', 'mode']);
      const text = JSON.stringify(res.body);
      for (const internal of [template.command, ...template.args, '{home}/state.json', 'STATE_FILE', bare.command, ...bare.args]) expect(text).not.toContain(internal);
      // A template without a description does not fall back to quoting its command for tenants.
      expect(res.body.items.find((p: { name: string }) => p.name === 'bare-server').description).toBe('Hosted MCP server');
    } finally {
      await admin('DELETE', '/v1/server-templates/bare-server');
    }
  });

  it('installs a template for a tenant with its variables, encrypting the secret one and never returning it', async () => {
    const res = await admin('PUT', '/v1/tenants/acme/plugins/github', { config: { GITHUB_TOKEN, GITHUB_ORG: 'acme-inc', mode: 'shared' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ plugin: 'github', config: { GITHUB_ORG: 'acme-inc', mode: 'shared' }, secrets: { GITHUB_TOKEN: { set: true } } });
    expect(JSON.stringify(res.body)).not.toContain(GITHUB_TOKEN);
    const row = await db.prisma.pluginInstallation.findFirstOrThrow({ where: { plugin: 'github' } });
    expect(JSON.stringify(row)).not.toContain(GITHUB_TOKEN);
    expect(new SecretBox({ current: t.secretsKey }).decrypt(row.secrets!, `${acmeId}:github`)).toEqual({ GITHUB_TOKEN });
  });

  it('refuses undeclared and platform-fixed variables from a tenant, each at its field path', async () => {
    const res = await admin('PUT', '/v1/tenants/acme/plugins/github', { config: { GITHUB_TOKEN, PATH: '/tmp/evil', NODE_OPTIONS: '--require /tmp/x.js', STATE_FILE: '/etc/passwd' } });
    expect([res.status, res.body.error.code]).toEqual([400, 'INVALID_PLUGIN_CONFIG']);
    expect(res.body.error.details.issues.map((i: { path: string }) => i.path).sort()).toEqual(['config.NODE_OPTIONS', 'config.PATH', 'config.STATE_FILE']);
  });

  it('refuses to delete a template tenants still use, updates it, and audits without values', async () => {
    expect((await admin('DELETE', '/v1/server-templates/github')).body.error.code).toBe('TEMPLATE_IN_USE');
    const updated = await admin('PATCH', '/v1/server-templates/github', { defaultMode: 'shared', description: 'GitHub, shared' });
    expect(updated.body).toMatchObject({ defaultMode: 'shared', installations: 1 });
    const audit = await admin('GET', '/v1/audit?action=server-template.update');
    expect(audit.body.items[0]).toMatchObject({ targetType: 'server-template', targetId: 'github', details: { envNames: ['GITHUB_TOKEN', 'GITHUB_ORG', 'STATE_FILE'] } });
    expect(JSON.stringify(audit.body)).not.toContain('{home}');
    expect(t.logs()).not.toContain(GITHUB_TOKEN);
  });

  it('deletes a template once no tenant has it installed', async () => {
    expect((await admin('DELETE', '/v1/tenants/acme/plugins/github')).status).toBe(204);
    expect((await admin('DELETE', '/v1/server-templates/github')).status).toBe(204);
    expect((await admin('GET', '/v1/server-templates/github')).body.error.code).toBe('TEMPLATE_NOT_FOUND');
  });
});
