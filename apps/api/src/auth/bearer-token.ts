/**
 * RFC 6750 §2.1: `credentials = "Bearer" 1*SP b64token`, b64token = 1*( ALPHA / DIGIT / "-" / "."
 * / "_" / "~" / "+" / "/" ) *"="; the scheme is case-insensitive (RFC 9110 §11.1). Exactly one
 * token: `Bearer <jwt> extra` is refused, not read as `<jwt>` (passport-jwt's extractor would).
 */
const BEARER_CREDENTIALS = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;

/** The token of an `Authorization: Bearer …` header, or undefined when there is not exactly one well-formed one. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  // Two Authorization headers are ambiguous: refused rather than picking one.
  if (typeof header !== 'string') return undefined;
  return BEARER_CREDENTIALS.exec(header.trim())?.[1];
}
