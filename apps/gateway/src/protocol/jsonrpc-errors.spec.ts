import type { ServerResponse } from 'node:http';
import {
  JSON_RPC_LIMIT_EXCEEDED,
  JSON_RPC_SERVER_ERROR,
  MODERN_LIMIT_EXCEEDED,
  MODERN_OUTCOME_UNKNOWN,
  modernAnswerCode,
  modernRefusalCode,
  refusalFor,
  refusalResponse,
  refuse,
  type HttpRefusalCode,
} from './jsonrpc-errors';

const ALL_CODES: HttpRefusalCode[] = [
  'parse_error',
  'invalid_request',
  'unsupported_media_type',
  'payload_too_large',
  'missing_session',
  'session_not_found',
  'not_found',
  'unauthorized',
  'forbidden',
  'origin_forbidden',
  'node_full',
  'rate_limited',
  'tenant_busy',
  'shutting_down',
  'unavailable',
  'cluster_unavailable',
  'forward_timeout',
  'outcome_unknown',
  'internal_error',
];

/** 2026-07-28 basic/index: -32020..-32099 belong to the spec, which defines only these three. */
const isForbiddenOnModernWire = (code: number) => code >= -32099 && code <= -32020 && ![-32020, -32021, -32022].includes(code);
const isLegacySubRange = (code: number) => code >= -32019 && code <= -32000;

/** A ServerResponse stand-in that records what `refuse` writes. */
function recorder() {
  const written: { status?: number; headers?: Record<string, string>; body?: string } = {};
  const res = {
    headersSent: false,
    writeHead(status: number, headers: Record<string, string>) {
      written.status = status;
      written.headers = headers;
      return this;
    },
    end(body?: string) {
      written.body = body;
      return this;
    },
  };
  return { res: res as unknown as ServerResponse, written };
}

describe('refusal codes per era', () => {
  it('keeps every 2025 answer as it was (-32000 for the gateway’s own refusals)', () => {
    expect(refusalFor('rate_limited')).toEqual({ status: 429, code: JSON_RPC_SERVER_ERROR, message: 'Too Many Requests' });
    expect(refusalFor('shutting_down', 'legacy').code).toBe(JSON_RPC_SERVER_ERROR);
    expect(refusalFor('outcome_unknown').code).toBe(JSON_RPC_SERVER_ERROR);
  });

  it.each(ALL_CODES)('never sends %s on the modern wire with a reserved or legacy server-error code, and keeps its status', (code) => {
    const legacy = refusalFor(code);
    const modern = refusalFor(code, 'modern');
    expect(modern.status).toBe(legacy.status);
    expect(modern.message).toBe(legacy.message);
    expect(isForbiddenOnModernWire(modern.code)).toBe(false);
    expect(isLegacySubRange(modern.code)).toBe(false);
  });

  it('gives the modern limit and availability refusals -31000 minus their status', () => {
    expect(refusalFor('rate_limited', 'modern').code).toBe(MODERN_LIMIT_EXCEEDED);
    expect(refusalFor('tenant_busy', 'modern').code).toBe(-31429);
    expect(refusalFor('shutting_down', 'modern')).toMatchObject({ status: 503, code: -31503 });
    expect(refusalFor('outcome_unknown', 'modern')).toMatchObject({ status: 502, code: MODERN_OUTCOME_UNKNOWN });
    expect(refusalFor('forward_timeout', 'modern')).toMatchObject({ status: 504, code: -31504 });
  });

  it('leaves the standard JSON-RPC codes alone on the modern wire', () => {
    expect(refusalFor('parse_error', 'modern').code).toBe(-32700);
    expect(refusalFor('invalid_request', 'modern').code).toBe(-32600);
    expect(refusalFor('internal_error', 'modern').code).toBe(-32603);
    expect(modernRefusalCode(-32020, 400)).toBe(-32020);
  });

  it('writes a modern 429 with its Retry-After and the modern code, a legacy one with -32000', () => {
    const modern = recorder();
    refuse(modern.res, 'rate_limited', { era: 'modern', headers: { 'Retry-After': '7' } });
    expect(modern.written.status).toBe(429);
    expect(modern.written.headers).toMatchObject({ 'Retry-After': '7' });
    expect(JSON.parse(modern.written.body!)).toEqual({ jsonrpc: '2.0', error: { code: -31429, message: 'Too Many Requests' }, id: null });
    const legacy = recorder();
    refuse(legacy.res, 'rate_limited', { headers: { 'Retry-After': '7' } });
    expect(JSON.parse(legacy.written.body!).error.code).toBe(JSON_RPC_SERVER_ERROR);
  });

  it('maps the web Response form the same way', async () => {
    const response = refusalResponse('shutting_down', { era: 'modern' });
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { code: number } }).error.code).toBe(-31503);
  });
});

describe('modernAnswerCode', () => {
  it('turns the gateway’s limit code -32029 into -31429 and -32000 (cut before the answer) into -31502', () => {
    expect(modernAnswerCode(JSON_RPC_LIMIT_EXCEEDED)).toBe(MODERN_LIMIT_EXCEEDED);
    expect(modernAnswerCode(JSON_RPC_SERVER_ERROR)).toBe(MODERN_OUTCOME_UNKNOWN);
  });

  it('does not let a plugin’s undefined code of the reserved sub-range through (-32603 instead)', () => {
    expect(modernAnswerCode(-32042)).toBe(-32603);
    expect(modernAnswerCode(-32099)).toBe(-32603);
    expect(modernAnswerCode(-32050)).toBe(-32603);
  });

  it('keeps the codes the spec defines and everything outside the reserved sub-range', () => {
    for (const code of [-32020, -32021, -32022, -32601, -32602, -32603, -32700, -32001, -32019, -31429, 1, 42]) expect(modernAnswerCode(code)).toBe(code);
  });
});
