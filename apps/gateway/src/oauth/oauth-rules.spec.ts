import { createHash } from 'node:crypto';
import { grantedScopes, narrowedScopes, offeredPlugins, pkceVerifies, redirectUriMatches, redirectUriProblem, tenantResourceOf } from './oauth-rules';

const challengeOf = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');
const VERIFIER = 'a'.repeat(20) + '-._~' + 'B'.repeat(30);

describe('oauth rules', () => {
  describe('redirect URIs a client may register', () => {
    it('accepts https and http on loopback', () => {
      expect(redirectUriProblem('https://claude.ai/api/mcp/auth_callback', 'web')).toBeUndefined();
      expect(redirectUriProblem('http://127.0.0.1:33418/callback', 'native')).toBeUndefined();
      expect(redirectUriProblem('http://[::1]/cb', 'native')).toBeUndefined();
      expect(redirectUriProblem('http://localhost:6274/oauth/callback', 'web')).toBeUndefined();
    });
    it('refuses http on a non-loopback host, fragments, credentials and dangerous schemes', () => {
      expect(redirectUriProblem('http://evil.example/cb', 'web')).toMatch(/loopback/);
      expect(redirectUriProblem('https://app.example/cb#x', 'web')).toMatch(/fragment/);
      expect(redirectUriProblem('https://user:pw@app.example/cb', 'web')).toMatch(/password/);
      expect(redirectUriProblem('javascript:alert(1)', 'native')).toMatch(/reverse-domain/);
      expect(redirectUriProblem('data:text/html,x', 'native')).toMatch(/reverse-domain/);
      expect(redirectUriProblem('not-a-uri', 'web')).toMatch(/absolute/);
    });
    it('allows a reverse-domain private-use scheme only for native apps', () => {
      expect(redirectUriProblem('com.example.app:/callback', 'native')).toBeUndefined();
      expect(redirectUriProblem('com.example.app:/callback', 'web')).toMatch(/native/);
      expect(redirectUriProblem('myapp:/callback', 'native')).toMatch(/reverse-domain/);
    });
  });

  describe('redirect URI matching', () => {
    const registered = ['https://app.example/cb', 'http://127.0.0.1:5000/callback'];
    it('matches exactly, with no prefix or case games', () => {
      expect(redirectUriMatches(registered, 'https://app.example/cb')).toBe(true);
      expect(redirectUriMatches(registered, 'https://app.example/cb/../evil')).toBe(false);
      expect(redirectUriMatches(registered, 'https://app.example/cb?x=1')).toBe(false);
      expect(redirectUriMatches(registered, 'https://app.example/cbx')).toBe(false);
      expect(redirectUriMatches(registered, 'https://APP.example/cb')).toBe(false);
      expect(redirectUriMatches(registered, 'https://app.example:8443/cb')).toBe(false);
    });
    it('lets a loopback URI use any port (RFC 8252 §7.3) but not another path or host', () => {
      expect(redirectUriMatches(registered, 'http://127.0.0.1:61234/callback')).toBe(true);
      expect(redirectUriMatches(registered, 'http://127.0.0.1/callback')).toBe(true);
      expect(redirectUriMatches(registered, 'http://127.0.0.1:61234/other')).toBe(false);
      expect(redirectUriMatches(registered, 'http://[::1]:61234/callback')).toBe(false);
      expect(redirectUriMatches(['https://app.example/cb'], 'https://app.example:444/cb')).toBe(false);
    });
  });

  describe('PKCE S256', () => {
    it('accepts the verifier of the challenge', () => {
      expect(pkceVerifies(VERIFIER, challengeOf(VERIFIER))).toBe(true);
    });
    it('refuses a missing, wrong, short or plain verifier', () => {
      expect(pkceVerifies(undefined, challengeOf(VERIFIER))).toBe(false);
      expect(pkceVerifies(VERIFIER + 'x', challengeOf(VERIFIER))).toBe(false);
      expect(pkceVerifies('short', challengeOf('short'))).toBe(false);
      // `plain`: the challenge itself presented as the verifier.
      const plain = 'p'.repeat(43);
      expect(pkceVerifies(plain, plain)).toBe(false);
    });
  });

  describe('resources', () => {
    const issuer = 'https://mcp.example.com';
    it('reads the tenant and plugin of our MCP URLs', () => {
      expect(tenantResourceOf('https://mcp.example.com/t/acme/mcp', issuer)).toEqual({ resource: 'https://mcp.example.com/t/acme/mcp', tenantSlug: 'acme' });
      expect(tenantResourceOf('https://mcp.example.com/t/acme/p/notes/sse', issuer)).toMatchObject({ tenantSlug: 'acme', plugin: 'notes' });
      expect(tenantResourceOf('https://mcp.example.com/t/acme/v/curated/mcp', issuer)).toEqual({ resource: 'https://mcp.example.com/t/acme/v/curated/mcp', tenantSlug: 'acme', virtual: 'curated' });
    });
    it('refuses a virtual server name that no virtual server can have', () => {
      expect(tenantResourceOf('https://mcp.example.com/t/acme/v/Curated/mcp', issuer)).toBeUndefined();
      expect(tenantResourceOf('https://mcp.example.com/t/acme/v/a__b/mcp', issuer)).toBeUndefined();
      expect(tenantResourceOf('https://mcp.example.com/t/acme/v/curated/messages', issuer)).toBeUndefined();
    });
    it('refuses another origin, other paths, queries and fragments', () => {
      expect(tenantResourceOf('https://evil.example/t/acme/mcp', issuer)).toBeUndefined();
      expect(tenantResourceOf('http://mcp.example.com/t/acme/mcp', issuer)).toBeUndefined();
      expect(tenantResourceOf('https://mcp.example.com/t/acme/mcp/', issuer)).toBeUndefined();
      expect(tenantResourceOf('https://mcp.example.com/t/acme/messages', issuer)).toBeUndefined();
      expect(tenantResourceOf('https://mcp.example.com/t/acme/mcp?x=1', issuer)).toBeUndefined();
      expect(tenantResourceOf('https://mcp.example.com/t/acme/mcp#f', issuer)).toBeUndefined();
      expect(tenantResourceOf('https://mcp.example.com/admin', issuer)).toBeUndefined();
    });
  });

  describe('scopes', () => {
    it('offers every plugin of the resource for the base scope, or the requested ones it has', () => {
      expect(offeredPlugins(['mcp'], ['echo', 'notes'])).toEqual({ ok: true, plugins: ['echo', 'notes'] });
      expect(offeredPlugins(['mcp', 'plugin:notes', 'plugin:ghost', 'offline_access'], ['echo', 'notes'])).toEqual({ ok: true, plugins: ['notes'] });
      expect(offeredPlugins(['plugin:ghost'], ['echo'])).toEqual({ ok: false });
    });
    it('grants only ticked plugins the key reaches: a key narrowed to A cannot grant B', () => {
      expect(grantedScopes(['echo', 'notes'], ['echo', 'notes'], ['echo'])).toEqual(['mcp', 'plugin:echo']);
      expect(grantedScopes(['notes'], ['echo', 'notes'], ['echo'])).toBeUndefined();
      expect(grantedScopes(['notes', 'smuggled'], ['echo', 'notes'], [])).toEqual(['mcp', 'plugin:notes']);
    });
    it('lets a refresh narrow but never widen, nor drop every plugin (which would mean all)', () => {
      const grant = ['mcp', 'plugin:echo', 'plugin:notes'];
      expect(narrowedScopes(grant, undefined)).toEqual(grant);
      expect(narrowedScopes(grant, 'mcp plugin:echo')).toEqual(['mcp', 'plugin:echo']);
      expect(narrowedScopes(grant, 'mcp plugin:echo plugin:admin')).toBeUndefined();
      expect(narrowedScopes(['mcp', 'plugin:echo'], 'mcp plugin:echo plugin:notes')).toBeUndefined();
      expect(narrowedScopes(grant, 'mcp')).toBeUndefined();
      expect(narrowedScopes(grant, 'plugin:echo')).toBeUndefined();
    });
  });
});
