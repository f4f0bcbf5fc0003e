import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Authenticated envelopes for messages between nodes. Anyone who can reach Redis can PUBLISH, so
 * every message carries an HMAC-SHA-256 under the cluster secret (forgery) and a timestamp plus a
 * random nonce that is remembered for the acceptance window (replay).
 *
 * Wire format: `<base64url hmac>.<json payload>`; the HMAC covers the JSON bytes exactly as sent.
 */

/** Messages older or further in the future than this are dropped; it bounds the nonce memory. */
export const DEFAULT_REPLAY_WINDOW_MS = 30_000;
/** Upper bound on remembered nonces, so a flood of valid messages cannot exhaust memory. */
export const MAX_REMEMBERED_NONCES = 100_000;
/** A shorter secret would make the HMAC guessable; 32 bytes is what `openssl rand -base64 32` gives. */
export const MIN_CLUSTER_SECRET_BYTES = 32;

const NONCE_BYTES = 16;
const ENVELOPE_VERSION = 1;

export type EnvelopeRejection = 'malformed' | 'bad-signature' | 'stale' | 'replayed';

export type DecodedEnvelope<T> =
  | { ok: true; payload: T; sender: string; sentAt: number }
  | { ok: false; reason: EnvelopeRejection };

interface EnvelopeBody {
  v: number;
  ts: number;
  nonce: string;
  from: string;
  payload: unknown;
}

export interface SignedEnvelopeOptions {
  /** Shared by every node of the cluster (CLUSTER_SECRET). */
  secret: Buffer;
  /** Written into each envelope so receivers can log who sent it. */
  nodeId: string;
  replayWindowMs?: number;
  /** Injectable clock for tests. */
  now?: () => number;
}

export class SignedEnvelopeCodec {
  private readonly secret: Buffer;
  private readonly nodeId: string;
  private readonly windowMs: number;
  private readonly now: () => number;
  /** nonce → timestamp; Map keeps insertion order, which lets pruning stop at the first fresh one. */
  private readonly seen = new Map<string, number>();

  constructor(options: SignedEnvelopeOptions) {
    if (options.secret.length < MIN_CLUSTER_SECRET_BYTES) {
      throw new Error(`The cluster secret must be at least ${MIN_CLUSTER_SECRET_BYTES} bytes`);
    }
    this.secret = options.secret;
    this.nodeId = options.nodeId;
    this.windowMs = options.replayWindowMs ?? DEFAULT_REPLAY_WINDOW_MS;
    this.now = options.now ?? Date.now;
  }

  encode(payload: unknown): string {
    const body: EnvelopeBody = {
      v: ENVELOPE_VERSION,
      ts: this.now(),
      nonce: randomBytes(NONCE_BYTES).toString('base64url'),
      from: this.nodeId,
      payload,
    };
    const json = JSON.stringify(body);
    return `${this.sign(json)}.${json}`;
  }

  /** Verifies and unwraps a message; a valid message is accepted once only. */
  decode<T>(raw: string): DecodedEnvelope<T> {
    const dot = raw.indexOf('.');
    if (dot <= 0) return { ok: false, reason: 'malformed' };
    const given = Buffer.from(raw.slice(0, dot), 'base64url');
    const json = raw.slice(dot + 1);
    const expected = Buffer.from(this.sign(json), 'base64url');
    // Check the signature before parsing, so unauthenticated input never reaches JSON.parse.
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return { ok: false, reason: 'bad-signature' };
    }
    let body: EnvelopeBody;
    try {
      body = JSON.parse(json) as EnvelopeBody;
    } catch {
      return { ok: false, reason: 'malformed' };
    }
    if (body.v !== ENVELOPE_VERSION || typeof body.ts !== 'number' || typeof body.nonce !== 'string') {
      return { ok: false, reason: 'malformed' };
    }
    const now = this.now();
    if (Math.abs(now - body.ts) > this.windowMs) return { ok: false, reason: 'stale' };
    this.prune(now);
    if (this.seen.has(body.nonce)) return { ok: false, reason: 'replayed' };
    this.seen.set(body.nonce, body.ts);
    return { ok: true, payload: body.payload as T, sender: String(body.from), sentAt: body.ts };
  }

  private sign(json: string): string {
    return createHmac('sha256', this.secret).update(json).digest('base64url');
  }

  private prune(now: number): void {
    for (const [nonce, ts] of this.seen) {
      // Roughly time-ordered: stop at the first nonce still inside the window.
      if (now - ts <= this.windowMs && this.seen.size <= MAX_REMEMBERED_NONCES) break;
      this.seen.delete(nonce);
    }
  }
}
