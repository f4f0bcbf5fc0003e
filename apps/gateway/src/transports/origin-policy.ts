/**
 * DNS-rebinding protection: a browser always sends Origin, so a request with an Origin outside the
 * allowlist is refused. Requests without Origin (MCP clients, SDKs, curl) are allowed.
 *
 * The allowlist is ALLOWED_ORIGINS plus the gateway's own public origin (PUBLIC_GATEWAY_URL):
 * a page served from the address users reach the gateway at is same-origin, not a rebinding
 * attempt, and behind a balancer that address is the only one a browser sees.
 */
export class OriginPolicy {
  private readonly allowed: ReadonlySet<string>;

  constructor(allowedOrigins: readonly string[], publicUrl?: string) {
    const configured = allowedOrigins.map((origin) => origin.replace(/\/+$/, '').toLowerCase());
    // URL.origin is what a browser sends: scheme://host[:port], lower case, no default port, no path.
    this.allowed = new Set(publicUrl === undefined ? configured : [...configured, new URL(publicUrl).origin]);
  }

  allows(origin: string | undefined): boolean {
    return origin === undefined || this.allowed.has(origin.toLowerCase());
  }
}
