import type { ConsoleOidcConfig } from '../config/api-config';

/** Who signed in, and whether CONSOLE_OIDC_PLATFORM_ADMINS makes them a platform admin. */
export type PlatformAdminVerdict =
  | { admitted: true; via: 'email' | 'group' }
  /** `who`: the email (or the subject when the provider sent none), for the 403 page and the log. */
  | { admitted: false; who: string };

/**
 * The operator's list against verified ID token claims: an email counts only when the provider
 * vouches for it (`email_verified`, OIDC Core §5.1), compared without case; a group is an exact
 * member of the configured groups claim (a list, or one string as some providers send it).
 */
export function platformAdminOf(claims: Record<string, unknown>, admins: ConsoleOidcConfig['platformAdmins'], groupsClaim: string): PlatformAdminVerdict {
  const email = typeof claims['email'] === 'string' ? claims['email'] : undefined;
  // Some providers send "true" as a string (OIDC Core §5.1 says boolean; accept both spellings, nothing else).
  const verified = claims['email_verified'] === true || claims['email_verified'] === 'true';
  if (email && verified && admins.emails.includes(email.toLowerCase())) return { admitted: true, via: 'email' };
  const value = claims[groupsClaim];
  const groups = Array.isArray(value) ? value.filter((group): group is string => typeof group === 'string') : typeof value === 'string' ? [value] : [];
  if (groups.some((group) => admins.groups.includes(group))) return { admitted: true, via: 'group' };
  return { admitted: false, who: email ?? String(claims['sub']) };
}
