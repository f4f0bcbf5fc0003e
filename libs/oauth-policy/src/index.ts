// What the API and the gateway's authorization server both enforce about OAuth clients and a
// tenant's OAuth settings, so the two never disagree.
export { redirectUriProblem, isLoopbackRedirectUri, MAX_REDIRECT_URI_LENGTH, MAX_REDIRECT_URIS } from './redirect-uri';
export {
  oauthSettingsSchema,
  metadataDocumentHostSchema,
  readOAuthSettings,
  DEFAULT_OAUTH_SETTINGS,
  DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
  MIN_ACCESS_TOKEN_TTL_SECONDS,
  MAX_ACCESS_TOKEN_TTL_SECONDS,
  MAX_METADATA_DOCUMENT_HOSTS,
} from './oauth-settings';
export type { OAuthSettings } from './oauth-settings';
export { ssoSettingsInputSchema, readSsoSettings, ssoSecretAad, ssoSettingsView, ssoIssuerProblem, MAX_SSO_EMAIL_DOMAINS } from './sso-settings';
export type { SsoSettingsInput, StoredSsoSettings, SsoSettingsView } from './sso-settings';
