import { bearerTokenOf } from '@switchboard/api-keys';

/**
 * The token of an `Authorization: Bearer …` header, or undefined when there is not exactly one
 * well-formed one (the rule both apps share: libs/api-keys bearer-credentials.ts).
 */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  // Two Authorization headers are ambiguous: refused rather than picking one.
  if (typeof header !== 'string') return undefined;
  const parsed = bearerTokenOf(header);
  return 'token' in parsed ? parsed.token : undefined;
}
