import { BlockedAddressError, readLimited, type GuardedFetchHandle, type OutboundNetwork } from '@switchboard/plugin-net';
import { MAX_REDIRECT_URIS, redirectUriProblem } from '@switchboard/oauth-policy';

/**
 * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document; MCP authorization
 * 2025-11-25 "Client ID Metadata Documents"): a client whose client_id is an https URL publishes
 * its metadata at that URL, and the authorization server fetches it instead of a registration.
 * The fetch is made on an attacker's word (anyone can send any client_id), so it goes through
 * the platform's SSRF guard, with no redirects, a size and a time limit, and a bounded cache.
 */

/** Draft §6.6 (-01): "SHOULD limit the response size"; 5 KB is the figure it gives. */
export const CLIENT_METADATA_DOCUMENT_MAX_BYTES = 5 * 1024;
/** The whole fetch (connect, headers, body); a sign-in page waits for it. */
export const CLIENT_METADATA_DOCUMENT_TIMEOUT_MS = 5_000;
/** A document without Cache-Control max-age is kept this long. */
export const DEFAULT_DOCUMENT_CACHE_SECONDS = 300;
/** max-age is honoured within these bounds: below, every sign-in would refetch; above, changes would not show for days. */
export const MIN_DOCUMENT_CACHE_SECONDS = 60;
export const MAX_DOCUMENT_CACHE_SECONDS = 86_400;
/** A failed fetch or an invalid document is remembered only briefly, so a fix shows soon and a flood of requests is not a flood of fetches. */
export const FAILED_DOCUMENT_CACHE_MS = 10_000;
/** Entries kept at most (oldest dropped first). */
export const MAX_CACHED_DOCUMENTS = 1_000;
export const MAX_CLIENT_NAME_LENGTH = 200;
export const MAX_CLIENT_ID_URL_LENGTH = 2048;

/** What the authorization server needs of a metadata-document client. */
export interface MetadataDocumentClient {
  /** The client_id: the document's URL, exactly as the client sent it. */
  id: string;
  /** `client_name`, or the URL's host when the document has none. Shown as unverified. */
  name: string;
  clientUri: string | null;
  redirectUris: string[];
  /** The document as received, for display and audit. */
  metadata: Record<string, unknown>;
}

export type ClientMetadataDocumentResult = { ok: true; client: MetadataDocumentClient } | { ok: false; reason: string };

export interface ResolveOptions {
  /** The tenant's `oauth.metadataDocumentHosts`: when non-empty, only these hosts (exact match). */
  allowedHosts?: readonly string[];
}

/** True when a client_id is meant as a metadata document URL (draft §3: an https URL). Validity is checked by resolve(). */
export function isClientMetadataDocumentId(clientId: string): boolean {
  return clientId.startsWith('https://');
}

/** Why a client_id cannot be a Client ID Metadata Document URL (draft §3), or undefined. */
export function clientIdUrlProblem(clientId: string): string | undefined {
  if (clientId.length > MAX_CLIENT_ID_URL_LENGTH) return `is longer than ${MAX_CLIENT_ID_URL_LENGTH} characters`;
  if (/[\s\u0000-\u001f\u007f]/.test(clientId)) return 'contains whitespace or control characters';
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return 'is not a URL';
  }
  // §3: "MUST have an https scheme, MUST contain a path component, MUST NOT contain single-dot
  // or double-dot path segments, ... MUST NOT contain a fragment ... MUST NOT contain a username or password".
  if (url.protocol !== 'https:') return 'must use https';
  if (clientId.includes('#')) return 'must not contain a fragment';
  if (url.username || url.password) return 'must not contain a user name or password';
  const rawPath = clientId.slice(clientId.indexOf('//') + 2).replace(/^[^/?]*/, '').replace(/\?.*$/, '');
  if (rawPath === '' || rawPath === '/') return 'must contain a path';
  const segments = rawPath.split('/').map((segment) => segment.toLowerCase().replace(/%2e/g, '.'));
  if (segments.some((segment) => segment === '.' || segment === '..')) return 'must not contain "." or ".." path segments';
  return undefined;
}

/** The host an allowlist is matched against: lowercase, without port or IPv6 brackets. */
function hostOf(clientId: string): string {
  return new URL(clientId).hostname.toLowerCase().replace(/^\[|\]$/g, '');
}

/** Checks a fetched document against its URL (draft §4 and §6.1 (-01); MCP 2025-11-25: "MUST validate"). */
export function validateClientMetadataDocument(clientId: string, document: unknown): ClientMetadataDocumentResult {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) return refuse('the document is not a JSON object');
  const doc = document as Record<string, unknown>;
  // Draft §4: "MUST match the URL of the document using simple string comparison" (no normalisation).
  if (doc['client_id'] !== clientId) return refuse('client_id in the document is not exactly the URL it was fetched from');

  const redirectUris = doc['redirect_uris'];
  if (!Array.isArray(redirectUris) || redirectUris.length === 0) return refuse('redirect_uris must be a non-empty array');
  if (redirectUris.length > MAX_REDIRECT_URIS) return refuse(`redirect_uris lists more than ${MAX_REDIRECT_URIS} URIs`);
  for (const [index, uri] of redirectUris.entries()) {
    if (typeof uri !== 'string') return refuse(`redirect_uris[${index}] is not a string`);
    const problem = redirectUriProblem(uri);
    if (problem) return refuse(`redirect_uris[${index}] ${problem}`);
  }

  // Draft §4.1: no shared secret can exist for such a client.
  if ('client_secret' in doc || 'client_secret_expires_at' in doc) return refuse('the document must not contain client_secret');
  const auth = doc['token_endpoint_auth_method'] ?? 'none';
  if (auth === 'private_key_jwt') return refuse('token_endpoint_auth_method private_key_jwt is not supported by this server; use none (a public client with PKCE)');
  if (auth !== 'none') return refuse(`token_endpoint_auth_method must be none (got ${JSON.stringify(auth).slice(0, 40)}); shared-secret methods are not allowed for metadata documents`);

  const grantTypes = doc['grant_types'];
  if (grantTypes !== undefined && !(Array.isArray(grantTypes) && grantTypes.includes('authorization_code'))) return refuse('grant_types must include authorization_code');
  const responseTypes = doc['response_types'];
  if (responseTypes !== undefined && !(Array.isArray(responseTypes) && responseTypes.includes('code'))) return refuse('response_types must include code');

  const name = doc['client_name'];
  if (name !== undefined && (typeof name !== 'string' || name.trim() === '' || name.length > MAX_CLIENT_NAME_LENGTH || /[\u0000-\u001f\u007f]/.test(name))) {
    return refuse(`client_name must be a non-empty string of at most ${MAX_CLIENT_NAME_LENGTH} characters`);
  }
  const clientUri = doc['client_uri'];
  if (clientUri !== undefined && (typeof clientUri !== 'string' || !isHttpsUrl(clientUri))) return refuse('client_uri must be an https URL');

  return {
    ok: true,
    client: {
      id: clientId,
      name: typeof name === 'string' ? name.trim() : hostOf(clientId),
      clientUri: typeof clientUri === 'string' ? clientUri : null,
      redirectUris: redirectUris as string[],
      metadata: doc,
    },
  };
}

/** Seconds a response may be cached per its Cache-Control, within our bounds; 0 = not at all. */
export function cacheSecondsOf(cacheControl: string | null): number {
  const directives = (cacheControl ?? '').toLowerCase().split(',').map((part) => part.trim());
  if (directives.includes('no-store') || directives.includes('no-cache')) return 0;
  const maxAge = directives.map((d) => /^max-age=(\d+)$/.exec(d)).find((match) => match !== null);
  if (!maxAge) return DEFAULT_DOCUMENT_CACHE_SECONDS;
  return Math.min(MAX_DOCUMENT_CACHE_SECONDS, Math.max(MIN_DOCUMENT_CACHE_SECONDS, Number(maxAge[1])));
}

export interface ClientMetadataDocumentsOptions {
  maxBytes?: number;
  timeoutMs?: number;
  clock?: { now(): number };
}

interface CacheEntry {
  result: ClientMetadataDocumentResult;
  expiresAt: number;
}

/**
 * Fetches, validates and caches metadata documents. One per gateway process, shared by all
 * tenants (a tenant's host allowlist is applied per call, also to cached documents); close() at
 * shutdown closes its connection pool.
 */
export class ClientMetadataDocuments {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<ClientMetadataDocumentResult>>();
  private readonly maxBytes: number;
  private readonly timeoutMs: number;
  private readonly clock: { now(): number };

  /** The production path: the platform's outbound policy, redirects refused (draft §4 (-01): no redirects, 200 only). */
  static over(outbound: OutboundNetwork, options: ClientMetadataDocumentsOptions = {}): ClientMetadataDocuments {
    return new ClientMetadataDocuments(outbound.createFetch({ maxRedirects: 0 }), options);
  }

  /** `http` must be a guarded fetch that follows no redirects (use over()); tests hand in their own. */
  constructor(
    private readonly http: GuardedFetchHandle,
    options: ClientMetadataDocumentsOptions = {},
  ) {
    this.maxBytes = options.maxBytes ?? CLIENT_METADATA_DOCUMENT_MAX_BYTES;
    this.timeoutMs = options.timeoutMs ?? CLIENT_METADATA_DOCUMENT_TIMEOUT_MS;
    this.clock = options.clock ?? Date;
  }

  /** The client a metadata-document client_id names, or why it cannot be used. Never throws. */
  async resolve(clientId: string, options: ResolveOptions = {}): Promise<ClientMetadataDocumentResult> {
    const problem = clientIdUrlProblem(clientId);
    if (problem) return refuse(`client_id ${problem}`);
    const allowed = options.allowedHosts ?? [];
    if (allowed.length > 0 && !allowed.includes(hostOf(clientId))) return refuse(`client metadata documents from ${hostOf(clientId)} are not allowed for this tenant`);

    const cached = this.cache.get(clientId);
    if (cached && cached.expiresAt > this.clock.now()) return cached.result;
    if (cached) this.cache.delete(clientId);
    // Concurrent sign-ins with the same client share one fetch.
    const running = this.inFlight.get(clientId);
    if (running) return running;
    const fetching = this.fetchAndValidate(clientId).finally(() => this.inFlight.delete(clientId));
    this.inFlight.set(clientId, fetching);
    return fetching;
  }

  /** Forgets every cached document (tests; an operator-triggered reload). */
  clear(): void {
    this.cache.clear();
  }

  close(): Promise<void> {
    this.cache.clear();
    return this.http.close();
  }

  private async fetchAndValidate(clientId: string): Promise<ClientMetadataDocumentResult> {
    const { result, cacheMs } = await this.fetchDocument(clientId);
    if (cacheMs > 0) this.remember(clientId, { result, expiresAt: this.clock.now() + cacheMs });
    return result;
  }

  private async fetchDocument(clientId: string): Promise<{ result: ClientMetadataDocumentResult; cacheMs: number }> {
    const failed = (reason: string) => ({ result: refuse(reason), cacheMs: FAILED_DOCUMENT_CACHE_MS });
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), this.timeoutMs);
    timer.unref();
    try {
      const response = await this.http.fetch(clientId, { method: 'GET', headers: { accept: 'application/json' }, signal: abort.signal });
      if (response.status !== 200) {
        await response.body?.cancel().catch(() => undefined);
        return failed(response.status >= 300 && response.status < 400 ? 'the document URL redirects; redirects are not followed' : `fetching the document answered HTTP ${response.status}`);
      }
      // Draft §4: application/json, or a more specific application/<AS-defined>+json.
      const mediaType = (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      if (mediaType !== 'application/json' && !/^application\/[a-z0-9.+-]+\+json$/.test(mediaType)) {
        await response.body?.cancel().catch(() => undefined);
        return failed(`the document is served as ${mediaType || 'no content type'}, not application/json`);
      }
      const declared = Number(response.headers.get('content-length') ?? NaN);
      if (declared > this.maxBytes) {
        await response.body?.cancel().catch(() => undefined);
        return failed(`the document is larger than ${this.maxBytes} bytes`);
      }
      const { bytes, truncated } = await readLimited(response, this.maxBytes);
      if (truncated) return failed(`the document is larger than ${this.maxBytes} bytes`);
      let document: unknown;
      try {
        document = JSON.parse(bytes.toString('utf8'));
      } catch {
        return failed('the document is not valid JSON');
      }
      const result = validateClientMetadataDocument(clientId, document);
      return { result, cacheMs: result.ok ? cacheSecondsOf(response.headers.get('cache-control')) * 1000 : FAILED_DOCUMENT_CACHE_MS };
    } catch (error) {
      if (abort.signal.aborted) return failed(`fetching the document took longer than ${this.timeoutMs} ms`);
      if (causedBy(error, BlockedAddressError)) {
        return failed('the document URL resolves to an address this server may not reach');
      }
      if (error instanceof Error && /redirects/.test(error.message)) return failed('the document URL redirects; redirects are not followed');
      return failed('the document could not be fetched');
    } finally {
      clearTimeout(timer);
    }
  }

  private remember(clientId: string, entry: CacheEntry): void {
    this.cache.delete(clientId);
    this.cache.set(clientId, entry);
    while (this.cache.size > MAX_CACHED_DOCUMENTS) this.cache.delete(this.cache.keys().next().value as string);
  }
}

/** undici wraps connect errors (`fetch failed`, cause: the lookup's error). */
function causedBy(error: unknown, type: new (...args: never[]) => Error): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (current instanceof type) return true;
    current = (current as Error).cause;
  }
  return false;
}

function refuse(reason: string): { ok: false; reason: string } {
  return { ok: false, reason };
}

function isHttpsUrl(value: string): boolean {
  try {
    return new URL(value).protocol === 'https:' && value.length <= MAX_CLIENT_ID_URL_LENGTH;
  } catch {
    return false;
  }
}
