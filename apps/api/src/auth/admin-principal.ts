/** Who is calling the admin API, from a verified admin JWT. */
export type AdminPrincipal =
  /** Claim `role: "admin"`: manages the whole platform. */
  | { kind: 'platform-admin'; actor: string }
  /** Claim `tenant: "<id>"`: manages that one tenant and sees no other. */
  | { kind: 'tenant-admin'; actor: string; tenantId: string };

export const PLATFORM_ADMIN_ROLE = 'admin';
