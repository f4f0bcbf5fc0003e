/** Who a pasted admin token speaks for, read from its claims (the API verifies it; this only picks the first page). */
export type TokenScope = { kind: 'platform' } | { kind: 'tenant'; tenantId: string };

export function tokenScope(token: string): TokenScope | null {
  const payload = token.split('.')[1];
  if (!payload) return null;
  let claims: unknown;
  try {
    claims = JSON.parse(decodeBase64Url(payload));
  } catch {
    return null;
  }
  if (typeof claims !== 'object' || claims === null) return null;
  const tenant = (claims as { tenant?: unknown }).tenant;
  if (typeof tenant === 'string') return { kind: 'tenant', tenantId: tenant };
  return { kind: 'platform' };
}

function decodeBase64Url(text: string): string {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(text.length / 4) * 4, '=');
  return new TextDecoder().decode(Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
}
