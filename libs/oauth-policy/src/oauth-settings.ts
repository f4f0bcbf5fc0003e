import { z } from 'zod';

/** A tenant's OAuth settings (`Tenant.oauth`), edited through the admin API, read by the gateway's authorization server. */
export const DEFAULT_ACCESS_TOKEN_TTL_SECONDS = 600;
export const MIN_ACCESS_TOKEN_TTL_SECONDS = 60;
export const MAX_ACCESS_TOKEN_TTL_SECONDS = 3600;
export const MAX_METADATA_DOCUMENT_HOSTS = 100;

/** A DNS host name in lowercase ASCII (punycode for IDNs): exact match, no wildcards, no IP literals. */
const HOSTNAME = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))*$/;
const IPV4_LITERAL = /^\d+(\.\d+){3}$/;

export const metadataDocumentHostSchema = z
  .string()
  .regex(HOSTNAME, 'not a lowercase host name (no scheme, port, path or wildcard)')
  .refine((host) => !IPV4_LITERAL.test(host), 'must be a host name, not an IP address');

export const oauthSettingsSchema = z
  .object({
    /** RFC 7591 dynamic client registration for this tenant's resources. */
    dynamicRegistration: z.boolean(),
    accessTokenTtlSeconds: z.number().int().min(MIN_ACCESS_TOKEN_TTL_SECONDS).max(MAX_ACCESS_TOKEN_TTL_SECONDS),
    /** Hosts whose Client ID Metadata Documents are accepted; empty = any public host. */
    metadataDocumentHosts: z
      .array(metadataDocumentHostSchema)
      .max(MAX_METADATA_DOCUMENT_HOSTS)
      .refine((list) => new Set(list).size === list.length, 'lists a host twice'),
  })
  .strict();

export type OAuthSettings = z.output<typeof oauthSettingsSchema>;

export const DEFAULT_OAUTH_SETTINGS: OAuthSettings = Object.freeze({
  dynamicRegistration: true,
  accessTokenTtlSeconds: DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
  metadataDocumentHosts: [],
}) as OAuthSettings;

/**
 * The settings stored on a tenant, with defaults for what is missing. A stored field that does
 * not validate (written by an older version, or by hand) falls back to its default instead of
 * failing every sign-in.
 */
export function readOAuthSettings(stored: unknown): OAuthSettings {
  const record = stored !== null && typeof stored === 'object' && !Array.isArray(stored) ? (stored as Record<string, unknown>) : {};
  const field = <K extends keyof OAuthSettings>(key: K): OAuthSettings[K] => {
    const parsed = oauthSettingsSchema.shape[key].safeParse(record[key]);
    return parsed.success ? (parsed.data as OAuthSettings[K]) : DEFAULT_OAUTH_SETTINGS[key];
  };
  return {
    dynamicRegistration: field('dynamicRegistration'),
    accessTokenTtlSeconds: field('accessTokenTtlSeconds'),
    metadataDocumentHosts: [...field('metadataDocumentHosts')],
  };
}
