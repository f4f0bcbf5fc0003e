import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readDocRequests, substitute } from './federation-doc';

// The reader of docs/federation.md's steps (federation-done-when.e2e-spec.ts sends them): a doc
// edit that breaks a step's form fails here, in the unit tier, before any process starts.
describe('the request steps of docs/federation.md', () => {
  it('reads every step of the doc in order, with its caller, method, path and JSON body', () => {
    const requests = readDocRequests();
    expect(requests.map((request) => `${request.caller} ${request.method} ${request.path}`)).toEqual([
      'platform POST /v1/tenants',
      'platform POST /v1/server-templates',
      'tenant-admin PUT /v1/tenants/acme/plugins/github',
      'tenant-admin PUT /v1/tenants/acme/plugins/linear',
      'tenant-admin PUT /v1/tenants/acme/plugins/everything',
      'tenant-admin POST /v1/tenants/acme/plugins/linear/upstream-connection',
      'tenant-admin GET /v1/tenants/acme/plugins/linear/upstream-connection',
      'tenant-admin PUT /v1/tenants/acme/plugins/my-linear',
      'tenant-admin POST /v1/tenants/acme/virtual-servers',
      'tenant-admin POST /v1/tenants/acme/api-keys',
      'tenant-admin POST /v1/tenants/acme/api-keys',
      'tenant-admin POST /v1/tenants/acme/api-keys',
      'tenant-admin GET /v1/tenants/acme/plugins/my-linear/upstream-connection/people',
    ]);
    expect(requests.find((request) => request.step === 'connect-linear')?.body).toBeUndefined();
    expect(requests.find((request) => request.step === 'create-virtual-server')?.body).toMatchObject({ name: 'team', tools: expect.any(Array) });
    expect(requests.find((request) => request.step === 'install-my-linear')?.body).toMatchObject({ config: { oauthMode: 'per-user', declaredTools: [{ name: 'create_issue' }] } });
  });

  it('refuses a step whose body is not JSON, or that is not a curl command of the doc\'s form', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'federation-doc-'));
    try {
      const file = path.join(dir, 'doc.md');
      writeFileSync(file, '# step: broken\ncurl -s "${auth[@]}" -X POST $API/v1/x -d \'{"a":\'\n');
      expect(() => readDocRequests(file)).toThrow(/step broken: its body is not JSON/);
      writeFileSync(file, '# step: not-curl\nwget $API/v1/x\n');
      expect(() => readDocRequests(file)).toThrow(/step not-curl: not a curl command/);
      writeFileSync(file, '# step: unknown-caller\ncurl -s "${someone[@]}" $API/v1/x\n');
      expect(() => readDocRequests(file)).toThrow(/step unknown-caller/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('replaces only whole string values equal to an example', () => {
    expect(substitute({ url: 'https://a.example/mcp', args: ['https://a.example/mcp', 'https://a.example/mcp/x'], n: 1 }, { 'https://a.example/mcp': 'http://127.0.0.1:1/mcp' })).toEqual({
      url: 'http://127.0.0.1:1/mcp',
      args: ['http://127.0.0.1:1/mcp', 'https://a.example/mcp/x'],
      n: 1,
    });
  });
});
