import { OriginPolicy } from './origin-policy';

const PUBLIC_URL = 'https://mcp.example.com';

describe('OriginPolicy', () => {
  it('allows requests without an Origin header (MCP clients and SDKs send none)', () => {
    expect(new OriginPolicy([]).allows(undefined)).toBe(true);
  });

  it('allows an origin listed in ALLOWED_ORIGINS, whatever its case or trailing slash there', () => {
    const policy = new OriginPolicy(['https://App.Example/']);
    expect(policy.allows('https://app.example')).toBe(true);
  });

  describe('with a public URL', () => {
    it('allows a browser page served from the gateway’s own public origin', () => {
      expect(new OriginPolicy([], PUBLIC_URL).allows('https://mcp.example.com')).toBe(true);
    });

    it('takes the origin of a public URL with a path, a default port and upper case', () => {
      const policy = new OriginPolicy([], 'HTTPS://MCP.example.com:443/base/');
      expect(policy.allows('https://mcp.example.com')).toBe(true);
    });

    it('keeps a non-default port as part of the origin', () => {
      const policy = new OriginPolicy([], 'http://localhost:8080');
      expect(policy.allows('http://localhost:8080')).toBe(true);
      expect(policy.allows('http://localhost:8081')).toBe(false);
      expect(policy.allows('http://localhost')).toBe(false);
    });

    it('refuses the public host under another scheme', () => {
      expect(new OriginPolicy([], PUBLIC_URL).allows('http://mcp.example.com')).toBe(false);
    });

    it('refuses another host, including a subdomain or a look-alike of the public one', () => {
      const policy = new OriginPolicy([], PUBLIC_URL);
      expect(policy.allows('https://evil.mcp.example.com')).toBe(false);
      expect(policy.allows('https://mcp.example.com.evil.example')).toBe(false);
      expect(policy.allows('https://127.0.0.1')).toBe(false);
    });

    it('still refuses an attacker origin and the opaque origin "null"', () => {
      const policy = new OriginPolicy(['https://app.example'], PUBLIC_URL);
      expect(policy.allows('http://evil.example.com')).toBe(false);
      expect(policy.allows('null')).toBe(false);
    });

    it('still allows the ALLOWED_ORIGINS besides the public origin', () => {
      const policy = new OriginPolicy(['https://app.example'], PUBLIC_URL);
      expect(policy.allows('https://app.example')).toBe(true);
      expect(policy.allows('https://mcp.example.com')).toBe(true);
    });
  });

  it('refuses every browser origin when neither ALLOWED_ORIGINS nor a public URL is set', () => {
    const policy = new OriginPolicy([]);
    expect(policy.allows('http://localhost:8080')).toBe(false);
    expect(policy.allows('https://mcp.example.com')).toBe(false);
  });
});
