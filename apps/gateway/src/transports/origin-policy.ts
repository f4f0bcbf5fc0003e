/**
 * DNS-rebinding protection: a browser always sends Origin, so a request with an Origin outside the
 * allowlist is refused. Requests without Origin (MCP clients, SDKs, curl) are allowed.
 */
export class OriginPolicy {
  private readonly allowed: ReadonlySet<string>;

  constructor(allowedOrigins: readonly string[]) {
    this.allowed = new Set(allowedOrigins.map((origin) => origin.replace(/\/+$/, '').toLowerCase()));
  }

  allows(origin: string | undefined): boolean {
    return origin === undefined || this.allowed.has(origin.toLowerCase());
  }
}
