import path from 'node:path';
import { ConfigError } from '@switchboard/config';
import { DEFAULT_ADMIN_TOKEN_MAX_TTL_SECONDS, loadApiConfig } from './api-config';

describe('loadApiConfig', () => {
  it('applies the documented defaults with an empty environment (embedded mode)', () => {
    const config = loadApiConfig({});
    expect(config.http).toMatchObject({ host: '127.0.0.1', port: 3000 });
    expect(config.publicGatewayUrl).toBe('http://localhost:8080');
    expect(config.database).toEqual({ url: undefined, dataDir: path.resolve('./.data') });
    expect(config.secrets.allowGenerate).toBe(true);
    expect(config.adminAuth).toMatchObject({ mode: 'secret', issuer: 'switchboard', audience: 'switchboard-admin' });
    expect(config.plugins).toEqual({ dir: undefined, packages: [] });
    expect(config.redis).toBeUndefined();
    expect(config.metrics).toEqual({ host: '127.0.0.1', port: 9092 });
    expect(config.console).toEqual({ dir: path.resolve('dist/console'), oidc: undefined });
  });

  it('requires CLUSTER_SECRET with REDIS_URL, and only then', () => {
    expect(() => loadApiConfig({ REDIS_URL: 'redis://127.0.0.1:6379' })).toThrow(/CLUSTER_SECRET: required with REDIS_URL/);
    const secret = Buffer.alloc(32, 9);
    expect(loadApiConfig({ REDIS_URL: 'redis://127.0.0.1:6379', CLUSTER_SECRET: secret.toString('base64') }).redis).toEqual({
      url: 'redis://127.0.0.1:6379',
      clusterSecret: secret,
      prefix: 'sb',
    });
    expect(() => loadApiConfig({ REDIS_URL: 'redis://127.0.0.1:6379', CLUSTER_SECRET: 'too-short' })).toThrow(/CLUSTER_SECRET: must be 32 bytes/);
    expect(loadApiConfig({ CLUSTER_SECRET: secret.toString('base64') }).redis).toBeUndefined();
  });

  it('serves metrics on API_METRICS_PORT and HOST unless told otherwise, or not at all with "off"', () => {
    expect(loadApiConfig({ HOST: '0.0.0.0', API_METRICS_PORT: '0' }).metrics).toEqual({ host: '0.0.0.0', port: 0 });
    expect(loadApiConfig({ HOST: '0.0.0.0', API_METRICS_HOST: '127.0.0.1' }).metrics).toEqual({ host: '127.0.0.1', port: 9092 });
    expect(loadApiConfig({ API_METRICS_PORT: 'off' }).metrics).toBeUndefined();
    expect(() => loadApiConfig({ API_METRICS_PORT: 'none' })).toThrow(/API_METRICS_PORT: must be a port number/);
    expect(() => loadApiConfig({ API_METRICS_PORT: '70000' })).toThrow(/API_METRICS_PORT/);
  });

  it('builds the public gateway URL from GATEWAY_PORT unless PUBLIC_GATEWAY_URL is set', () => {
    expect(loadApiConfig({ GATEWAY_PORT: '9090' }).publicGatewayUrl).toBe('http://localhost:9090');
    expect(loadApiConfig({ PUBLIC_GATEWAY_URL: 'https://mcp.example.com/' }).publicGatewayUrl).toBe('https://mcp.example.com');
  });

  it('never generates secrets when a Postgres URL is configured', () => {
    expect(loadApiConfig({ DATABASE_URL: 'postgresql://db/switchboard' }).secrets.allowGenerate).toBe(false);
  });

  it('requires issuer and audience with a JWKS URL', () => {
    expect(() => loadApiConfig({ ADMIN_JWKS_URL: 'https://idp.example.com/jwks' })).toThrow(/ADMIN_JWT_ISSUER[\s\S]*ADMIN_JWT_AUDIENCE/);
    expect(
      loadApiConfig({ ADMIN_JWKS_URL: 'https://idp.example.com/jwks', ADMIN_JWT_ISSUER: 'https://idp', ADMIN_JWT_AUDIENCE: 'sb' }).adminAuth,
    ).toEqual({ mode: 'jwks', jwksUrl: 'https://idp.example.com/jwks', issuer: 'https://idp', audience: 'sb', maxTokenTtlSeconds: DEFAULT_ADMIN_TOKEN_MAX_TTL_SECONDS });
  });

  it('names every wrong variable', () => {
    try {
      loadApiConfig({ API_PORT: '70000', ADMIN_JWT_SECRET: 'short', SECRETS_KEY: 'nope', PUBLIC_GATEWAY_URL: 'ftp://x' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems.map((p) => p.variable).sort()).toEqual(['ADMIN_JWT_SECRET', 'API_PORT', 'PUBLIC_GATEWAY_URL', 'SECRETS_KEY']);
    }
  });

  describe('console sign-in through OpenID Connect', () => {
    const oidc = {
      CONSOLE_OIDC_ISSUER: 'https://login.example.com/',
      CONSOLE_OIDC_CLIENT_ID: 'switchboard-console',
      CONSOLE_OIDC_CLIENT_SECRET: 'shh',
      CONSOLE_OIDC_REDIRECT_URI: 'https://admin.example.com/console/oidc/callback',
      CONSOLE_OIDC_PLATFORM_ADMINS: 'Ada@Example.com, group:platform-ops',
    };

    it('is off unless configured, and reads the issuer exactly as given (trailing slash kept)', () => {
      expect(loadApiConfig({}).console.oidc).toBeUndefined();
      expect(loadApiConfig(oidc).console.oidc).toEqual({
        issuer: 'https://login.example.com/',
        clientId: 'switchboard-console',
        clientSecret: 'shh',
        redirectUri: 'https://admin.example.com/console/oidc/callback',
        platformAdmins: { emails: ['ada@example.com'], groups: ['platform-ops'] },
        providerName: 'login.example.com',
        scopes: 'openid email profile',
        groupsClaim: 'groups',
        allowCidrs: [],
      });
    });

    it('names each missing variable once one is set', () => {
      try {
        loadApiConfig({ CONSOLE_OIDC_ISSUER: oidc.CONSOLE_OIDC_ISSUER });
        throw new Error('expected a ConfigError');
      } catch (error) {
        expect((error as ConfigError).problems.map((p) => p.variable)).toEqual(['CONSOLE_OIDC_CLIENT_ID', 'CONSOLE_OIDC_CLIENT_SECRET', 'CONSOLE_OIDC_REDIRECT_URI', 'CONSOLE_OIDC_PLATFORM_ADMINS']);
      }
    });

    it('refuses an http issuer off loopback, a callback elsewhere, bad admin entries, scopes without openid and bad ranges', () => {
      expect(() => loadApiConfig({ ...oidc, CONSOLE_OIDC_ISSUER: 'http://login.example.com' })).toThrow(/CONSOLE_OIDC_ISSUER: must use https/);
      expect(loadApiConfig({ ...oidc, CONSOLE_OIDC_ISSUER: 'http://127.0.0.1:9000' }).console.oidc?.issuer).toBe('http://127.0.0.1:9000');
      expect(() => loadApiConfig({ ...oidc, CONSOLE_OIDC_REDIRECT_URI: 'https://evil.example.com/callback' })).toThrow(/CONSOLE_OIDC_REDIRECT_URI: must end with \/console\/oidc\/callback/);
      expect(() => loadApiConfig({ ...oidc, CONSOLE_OIDC_PLATFORM_ADMINS: 'ada, group:' })).toThrow(/CONSOLE_OIDC_PLATFORM_ADMINS/);
      expect(() => loadApiConfig({ ...oidc, CONSOLE_OIDC_SCOPES: 'email profile' })).toThrow(/CONSOLE_OIDC_SCOPES: must include openid/);
      expect(() => loadApiConfig({ ...oidc, CONSOLE_OIDC_ALLOW_CIDRS: '10.0.0.0' })).toThrow(/CONSOLE_OIDC_ALLOW_CIDRS/);
    });

    it('is refused with ADMIN_JWKS_URL: the API could not mint the console session', () => {
      expect(() => loadApiConfig({ ...oidc, ADMIN_JWKS_URL: 'https://idp/jwks', ADMIN_JWT_ISSUER: 'i', ADMIN_JWT_AUDIENCE: 'a' })).toThrow(/CONSOLE_OIDC_ISSUER: not available with ADMIN_JWKS_URL/);
    });
  });
});
