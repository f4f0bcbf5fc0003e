import { z } from 'zod';
import {
  MAX_ACCESS_TOKEN_TTL_SECONDS,
  MAX_METADATA_DOCUMENT_HOSTS,
  MAX_REDIRECT_URIS,
  MIN_ACCESS_TOKEN_TTL_SECONDS,
  metadataDocumentHostSchema,
  redirectUriProblem,
  ssoSettingsInputSchema,
} from '@switchboard/oauth-policy';

export const TOKEN_ENDPOINT_AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post'] as const;

const redirectUriSchema = z.string().superRefine((uri, ctx) => {
  const problem = redirectUriProblem(uri);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const registerOAuthClientSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    /** Exact URIs the client may be sent back to: https, loopback http (RFC 8252), or a private-use scheme. */
    redirectUris: z
      .array(redirectUriSchema)
      .min(1)
      .max(MAX_REDIRECT_URIS)
      .refine((list) => new Set(list).size === list.length, 'lists a redirect URI twice'),
    /** The client's web page, shown on the consent page. */
    clientUri: z
      .url({ protocol: /^https$/, message: 'must be an https URL' })
      .max(2048)
      .optional(),
    /** `none`: a public client (PKCE only). The two others get a client secret, shown once. */
    tokenEndpointAuth: z.enum(TOKEN_ENDPOINT_AUTH_METHODS).default('none'),
  })
  .strict();

export const updateOAuthSettingsSchema = z
  .object({
    dynamicRegistration: z.boolean().optional(),
    accessTokenTtlSeconds: z.number().int().min(MIN_ACCESS_TOKEN_TTL_SECONDS).max(MAX_ACCESS_TOKEN_TTL_SECONDS).optional(),
    metadataDocumentHosts: z
      .array(metadataDocumentHostSchema)
      .max(MAX_METADATA_DOCUMENT_HOSTS)
      .refine((list) => new Set(list).size === list.length, 'lists a host twice')
      .optional(),
    /** The tenant's OpenID Connect provider for single sign-on; null turns SSO off. */
    sso: ssoSettingsInputSchema.nullable().optional(),
  })
  .strict();

export const ssoSettingsViewSchema = z.object({
  issuer: z.string(),
  clientId: z.string(),
  /** The secret is write-only: stored sealed, never returned. */
  clientSecretSet: z.literal(true),
  allowedEmailDomains: z.array(z.string()),
  requiredGroup: z.object({ claim: z.string(), value: z.string() }).optional(),
});

export const oauthSettingsViewSchema = z.object({
  dynamicRegistration: z.boolean(),
  accessTokenTtlSeconds: z.number().int(),
  metadataDocumentHosts: z.array(z.string()),
  /** null: single sign-on is off. */
  sso: ssoSettingsViewSchema.nullable(),
});

export const oauthClientViewSchema = z.object({
  /** The client_id: `sbc_…`, or the metadata document's URL. */
  id: z.string(),
  kind: z.enum(['dynamic', 'metadata_document', 'registered']),
  /** Set for a client registered for this tenant; null for clients any tenant may grant. */
  tenantId: z.uuid().nullable(),
  name: z.string(),
  clientUri: z.string().nullable(),
  redirectUris: z.array(z.string()),
  tokenEndpointAuth: z.enum(TOKEN_ENDPOINT_AUTH_METHODS),
  /** Grants on this tenant that are not revoked. */
  activeGrants: z.number().int(),
  createdAt: z.iso.datetime(),
  revokedAt: z.iso.datetime().nullable(),
});

export const registeredOAuthClientSchema = z.object({
  client: oauthClientViewSchema,
  /** A confidential client's secret. Shown once: only its hash is stored. Null for public clients. */
  clientSecret: z.string().nullable(),
});

export const oauthGrantViewSchema = z.object({
  id: z.uuid(),
  tenantId: z.uuid(),
  clientId: z.string(),
  clientName: z.string(),
  /** The API key the person signed in with, if they signed in with one. */
  keyId: z.uuid().nullable(),
  subject: z.string(),
  email: z.string().nullable(),
  scopes: z.array(z.string()),
  resource: z.string(),
  status: z.enum(['active', 'revoked']),
  createdAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
  /** `admin`, `user`, `refresh_reuse`, `key_revoked`, `client_revoked`. */
  revokedReason: z.string().nullable(),
});

export type RegisterOAuthClientInput = z.output<typeof registerOAuthClientSchema>;
export type UpdateOAuthSettingsInput = z.output<typeof updateOAuthSettingsSchema>;
export type OAuthSettingsView = z.output<typeof oauthSettingsViewSchema>;
export type OAuthClientView = z.output<typeof oauthClientViewSchema>;
export type RegisteredOAuthClient = z.output<typeof registeredOAuthClientSchema>;
export type OAuthGrantView = z.output<typeof oauthGrantViewSchema>;
