import { z } from 'zod';

/**
 * A tenant's single sign-on provider (`Tenant.oauth.sso`): an OpenID Connect issuer whose users
 * may sign in on the consent page. Written by the admin API, read by the gateway's authorization
 * server. The client secret is stored sealed (SecretBox, additional data `ssoSecretAad`) and is
 * never shown again.
 */
export const MAX_SSO_EMAIL_DOMAINS = 100;
const EMAIL_DOMAIN = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Why a string cannot be an OIDC issuer here: https (http only on loopback, for tests), no query or fragment. */
export function ssoIssuerProblem(issuer: string): string | undefined {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) return 'must use https (http only on a loopback address)';
  if (url.username || url.password || url.search || url.hash || issuer.includes('#') || issuer.includes('?')) return 'must not contain credentials, a query or a fragment';
  return undefined;
}

const issuerSchema = z
  .string()
  .max(2048)
  .superRefine((issuer, ctx) => {
    const problem = ssoIssuerProblem(issuer);
    if (problem) ctx.addIssue({ code: 'custom', message: `issuer ${problem}` });
  });

const requiredGroupSchema = z.object({ claim: z.string().min(1).max(200), value: z.string().min(1).max(500) }).strict();

/** What an admin sends. */
export const ssoSettingsInputSchema = z
  .object({
    issuer: issuerSchema,
    clientId: z.string().min(1).max(500),
    clientSecret: z.string().min(1).max(2000),
    /** Lowercase domains; a person's verified email must end in one (empty or absent: any domain). */
    allowedEmailDomains: z
      .array(z.string().regex(EMAIL_DOMAIN, 'not a lowercase domain'))
      .max(MAX_SSO_EMAIL_DOMAINS)
      .refine((list) => new Set(list).size === list.length, 'lists a domain twice')
      .optional(),
    /** A claim of the ID token that must equal (or, when an array, contain) the value. */
    requiredGroup: requiredGroupSchema.optional(),
  })
  .strict();

export type SsoSettingsInput = z.output<typeof ssoSettingsInputSchema>;

/** What is stored in `Tenant.oauth.sso`. */
export interface StoredSsoSettings {
  issuer: string;
  clientId: string;
  /** SecretBox envelope of `{ clientSecret }`. */
  clientSecretSealed: string;
  allowedEmailDomains: string[];
  requiredGroup?: { claim: string; value: string };
}

const storedSchema = z.object({
  issuer: issuerSchema,
  clientId: z.string().min(1).max(500),
  clientSecretSealed: z.string().min(1),
  allowedEmailDomains: z.array(z.string()).default([]),
  requiredGroup: requiredGroupSchema.optional(),
});

/** The stored provider, or undefined when SSO is off (or the stored value does not validate). */
export function readSsoSettings(oauth: unknown): StoredSsoSettings | undefined {
  const record = oauth !== null && typeof oauth === 'object' && !Array.isArray(oauth) ? (oauth as Record<string, unknown>) : {};
  const parsed = storedSchema.safeParse(record['sso']);
  return parsed.success ? parsed.data : undefined;
}

/** The client secret's envelope names its tenant: an envelope copied onto another tenant does not open. */
export function ssoSecretAad(tenantId: string): string {
  return `oauth-sso-secret/v1:${tenantId}`;
}

/** The view an admin gets: never the secret. */
export interface SsoSettingsView {
  issuer: string;
  clientId: string;
  clientSecretSet: true;
  allowedEmailDomains: string[];
  requiredGroup?: { claim: string; value: string };
}

export function ssoSettingsView(stored: StoredSsoSettings): SsoSettingsView {
  return {
    issuer: stored.issuer,
    clientId: stored.clientId,
    clientSecretSet: true,
    allowedEmailDomains: [...stored.allowedEmailDomains],
    ...(stored.requiredGroup ? { requiredGroup: { ...stored.requiredGroup } } : {}),
  };
}
