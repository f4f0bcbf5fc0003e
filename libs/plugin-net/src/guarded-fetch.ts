import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, fetch as undiciFetch, type RequestInit, type Response } from 'undici';
import { AddressGuard, type AddressGuardOptions } from './address-guard';

export const DEFAULT_MAX_REDIRECTS = 5;
const ALLOWED_PROTOCOLS = new Set(['http:', 'https:']);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** A URL or address the guard refused; plugins turn it into a tool error. */
export class BlockedAddressError extends Error {
  constructor(
    readonly target: string,
    readonly reason: string,
  ) {
    super(`Refusing to connect to ${target}: ${reason}`);
    this.name = 'BlockedAddressError';
  }
}

/**
 * A `lookup` for net/tls connect that resolves the host once, refuses the connection if ANY of
 * its addresses is blocked (a name with one public and one private address is a DNS-rebinding
 * setup), and hands the socket exactly the addresses it checked, so nothing resolves the name
 * again between the check and the connect.
 */
export function guardedLookup(guard: AddressGuard): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      for (const { address } of addresses) {
        const verdict = guard.check(address);
        if (!verdict.allowed) return callback(new BlockedAddressError(`${hostname} (${address})`, verdict.reason), '', 0);
      }
      if (addresses.length === 0) return callback(new Error(`${hostname} has no address`), '', 0);
      // Node asks for all addresses when it races IPv4 and IPv6 (autoSelectFamily).
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

export interface GuardedFetchOptions extends AddressGuardOptions {
  /** Redirects followed, each re-checked; more is an error. */
  maxRedirects?: number;
}

export type GuardedFetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** A guarded fetch and the connection pool behind it, which its owner closes. */
export interface GuardedFetchHandle {
  fetch: GuardedFetch;
  /** Closes the pool; requests still running fail. */
  close(): Promise<void>;
}

/**
 * `fetch` that only reaches public http(s) addresses: the scheme, an IP-literal host and every
 * resolved address are checked on the first request and on every redirect, which it follows
 * itself (`redirect: 'manual'`) so that a public page cannot bounce it to 127.0.0.1.
 */
export function createGuardedFetch(options: GuardedFetchOptions = {}): GuardedFetchHandle {
  const guard = new AddressGuard({ allow: options.allow });
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const dispatcher = new Agent({ connect: { lookup: guardedLookup(guard) } });

  const fetch: GuardedFetch = async (input, init = {}) => {
    let url = new URL(input);
    let method = init.method ?? 'GET';
    let body = init.body;
    for (let hop = 0; ; hop++) {
      checkUrl(url, guard);
      const response = await undiciFetch(url, { ...init, method, body, redirect: 'manual', dispatcher });
      const location = response.headers.get('location');
      if (!REDIRECT_STATUSES.has(response.status) || !location) return response;
      await response.body?.cancel();
      if (hop >= maxRedirects) throw new Error(`more than ${maxRedirects} redirects`);
      url = new URL(location, url);
      // As browsers do: 303, and 301/302 after a POST, continue as a GET without a body.
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
      }
    }
  };
  return { fetch, close: () => dispatcher.close() };
}

/** Only http(s), and an IP-literal host is checked here because connect skips `lookup` for literals. */
export function checkUrl(url: URL, guard: AddressGuard): void {
  if (!ALLOWED_PROTOCOLS.has(url.protocol)) throw new BlockedAddressError(url.href, `scheme ${url.protocol} is not allowed`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) {
    const verdict = guard.check(host);
    if (!verdict.allowed) throw new BlockedAddressError(url.href, verdict.reason);
  }
}

/** Reads at most `maxBytes` of a body and cancels the rest. */
export async function readLimited(response: Response, maxBytes: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  if (!response.body) return { bytes: Buffer.alloc(0), truncated: false };
  const reader = response.body.getReader();
  while (true) {
    const { done, value } = await reader.read();
    if (done) return { bytes: Buffer.concat(chunks), truncated: false };
    const room = maxBytes - size;
    if (value.byteLength > room) {
      chunks.push(Buffer.from(value.subarray(0, room)));
      await reader.cancel();
      return { bytes: Buffer.concat(chunks), truncated: true };
    }
    chunks.push(Buffer.from(value));
    size += value.byteLength;
  }
}
