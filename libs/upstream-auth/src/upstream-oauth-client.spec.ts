import type { AuthorizationServerMetadata } from '@modelcontextprotocol/sdk/shared/auth.js';
import { chooseClientIdentity, platformClientMetadata, UpstreamDiscoveryError } from './upstream-oauth-client';

const metadata = (extra: Record<string, unknown>): AuthorizationServerMetadata =>
  ({ issuer: 'https://as.example', authorization_endpoint: 'https://as.example/authorize', token_endpoint: 'https://as.example/token', response_types_supported: ['code'], ...extra }) as AuthorizationServerMetadata;
const CIMD = 'https://sb.example/oauth/client-metadata.json';

describe('chooseClientIdentity', () => {
  it('uses the platform metadata document when the server supports them and the URL is https', () => {
    expect(chooseClientIdentity(metadata({ client_id_metadata_document_supported: true, registration_endpoint: 'https://as.example/register' }), CIMD)).toEqual({ kind: 'metadata-document', clientId: CIMD });
  });

  it('falls back to dynamic registration when the server does not support metadata documents', () => {
    expect(chooseClientIdentity(metadata({ registration_endpoint: 'https://as.example/register' }), CIMD)).toEqual({ kind: 'registration' });
  });

  it('registers when the platform document is not on https (a client_id must be an https URL)', () => {
    expect(chooseClientIdentity(metadata({ client_id_metadata_document_supported: true, registration_endpoint: 'https://as.example/register' }), 'http://127.0.0.1:8080/oauth/client-metadata.json')).toEqual({ kind: 'registration' });
  });

  it('says why when neither way is open', () => {
    expect(() => chooseClientIdentity(metadata({}), CIMD)).toThrow(UpstreamDiscoveryError);
    expect(() => chooseClientIdentity(metadata({ client_id_metadata_document_supported: true }), 'http://127.0.0.1/x')).toThrow(/not https/);
  });
});

describe('platformClientMetadata', () => {
  it('is a public client with PKCE, the authorization code and refresh grants, and the one redirect URI', () => {
    expect(platformClientMetadata('https://sb.example/oauth/upstream/callback')).toEqual({
      client_name: 'Switchboard',
      redirect_uris: ['https://sb.example/oauth/upstream/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    });
  });
});
