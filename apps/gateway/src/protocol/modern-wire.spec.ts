import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import {
  checkParamHeaders,
  classifyPost,
  decodeHeaderValue,
  mayBeModern,
  MAX_MIRRORED_HEADER_LENGTH,
  modernAnswerBody,
  modernErrorBody,
  paramHeadersOf,
  type EraDecision,
  type ModernHeaders,
} from './modern-wire';

const META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'spec', version: '1' },
};
const HEADERS: ModernHeaders = { protocolVersion: '2026-07-28', mcpMethod: 'tools/list' };

/** `id: null` makes it a notification. */
function request(method: string, params: Record<string, unknown> = {}, id: number | string | null = 7): JSONRPCMessage {
  return { jsonrpc: '2.0', ...(id !== null ? { id } : {}), method, params } as JSONRPCMessage;
}

function classify(message: JSONRPCMessage, headers: ModernHeaders = HEADERS): EraDecision {
  return classifyPost([message], false, headers);
}

function refusalOf(decision: EraDecision) {
  if (decision.era !== 'refused') throw new Error(`expected a refusal, got ${decision.era}`);
  return decision.refusal;
}

describe('classifyPost', () => {
  describe('legacy traffic', () => {
    it('leaves a 2025 initialize without a claim on the legacy path', () => {
      const init = request('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } });
      expect(classify(init, {})).toEqual({ era: 'legacy' });
      expect(classify(init, { protocolVersion: '2025-06-18' })).toEqual({ era: 'legacy' });
    });

    it('leaves a request without a claim and with a 2025 or no version header on the legacy path', () => {
      expect(classify(request('tools/list'), { protocolVersion: '2025-11-25' })).toEqual({ era: 'legacy' });
      expect(classify(request('tools/list', { _meta: { progressToken: 1 } }), {})).toEqual({ era: 'legacy' });
    });

    it('does not take other io.modelcontextprotocol keys alone for a claim', () => {
      expect(classify(request('tools/list', { _meta: { 'io.modelcontextprotocol/clientCapabilities': {} } }), {})).toEqual({ era: 'legacy' });
    });

    it('leaves posted responses and batches without claims on the legacy path', () => {
      expect(classify({ jsonrpc: '2.0', id: 1, result: {} } as JSONRPCMessage, {})).toEqual({ era: 'legacy' });
      expect(classifyPost([request('tools/list', {}, 1), request('tools/list', {}, 2)], true, {})).toEqual({ era: 'legacy' });
    });

    it('leaves an initialize with a malformed modern envelope and no modern header on the legacy path', () => {
      const init = request('initialize', { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } });
      expect(classify(init, {})).toEqual({ era: 'legacy' });
    });
  });

  describe('modern traffic', () => {
    it('serves a request with a valid envelope and matching headers as modern', () => {
      const decision = classify(request('tools/list', { _meta: META }));
      expect(decision).toEqual({
        era: 'modern',
        message: {
          id: 7,
          method: 'tools/list',
          params: { _meta: META },
          envelope: { protocolVersion: '2026-07-28', clientCapabilities: {}, clientInfo: { name: 'spec', version: '1' } },
        },
      });
    });

    it('serves a request without the optional clientInfo', () => {
      const { 'io.modelcontextprotocol/clientInfo': _info, ...meta } = META;
      expect(classify(request('server/discover', { _meta: meta }), { ...HEADERS, mcpMethod: 'server/discover' }).era).toBe('modern');
    });

    it('routes an initialize with a valid modern envelope to the modern path (where it is an unknown method)', () => {
      expect(classify(request('initialize', { _meta: META }), { ...HEADERS, mcpMethod: 'initialize' }).era).toBe('modern');
    });

    it('accepts header values with surrounding whitespace', () => {
      const call = request('tools/call', { _meta: META, name: 'tool' });
      expect(classify(call, { protocolVersion: ' 2026-07-28 ', mcpMethod: ' tools/call ', mcpName: '  tool  ' }).era).toBe('modern');
    });

    it('takes a notification with a claim as modern without requiring the headers', () => {
      expect(classify(request('notifications/initialized', { _meta: META }, null), {})).toMatchObject({ era: 'modern', message: { method: 'notifications/initialized' } });
    });
  });

  describe('refusals, in the order of the ladder', () => {
    it('refuses a batch holding a claim with -32600', () => {
      const refusal = refusalOf(classifyPost([request('tools/list', { _meta: META }, 1), request('tools/list', {}, 2)], true, {}));
      expect(refusal).toMatchObject({ status: 400, id: null, error: { code: -32600 } });
    });

    it('refuses a malformed envelope with 400 -32602, echoing the id (missing clientCapabilities)', () => {
      const refusal = refusalOf(classify(request('server/discover', { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' } }, 104)));
      expect(refusal).toMatchObject({ status: 400, id: 104, error: { code: -32602 } });
      expect(refusal.error.message).toMatch(/clientCapabilities/);
    });

    it('refuses a malformed clientInfo or logLevel with -32602', () => {
      const badInfo = { ...META, 'io.modelcontextprotocol/clientInfo': 'me' };
      expect(refusalOf(classify(request('tools/list', { _meta: badInfo }))).error.code).toBe(-32602);
      const badLevel = { ...META, 'io.modelcontextprotocol/logLevel': 'loud' };
      expect(refusalOf(classify(request('tools/list', { _meta: badLevel }))).error.code).toBe(-32602);
    });

    it('refuses a modern version header without a claim in the body with -32602 (never legacy)', () => {
      const refusal = refusalOf(classify(request('server/discover', {}, 101)));
      expect(refusal).toMatchObject({ status: 400, id: 101, error: { code: -32602 } });
      const noVersion = refusalOf(classify(request('tools/list', { _meta: { 'io.modelcontextprotocol/clientCapabilities': {} } }, 102)));
      expect(noVersion).toMatchObject({ status: 400, id: 102, error: { code: -32602 } });
    });

    it('refuses a header/body version mismatch with -32020 before looking at the version (body v999.0.0, header 2026-07-28)', () => {
      const meta = { ...META, 'io.modelcontextprotocol/protocolVersion': 'v999.0.0' };
      expect(refusalOf(classify(request('tools/list', { _meta: meta })))).toMatchObject({ status: 400, id: 7, error: { code: -32020 } });
    });

    it('refuses an unsupported version in body and header with -32022 listing what is supported', () => {
      const meta = { ...META, 'io.modelcontextprotocol/protocolVersion': 'v999.0.0' };
      const refusal = refusalOf(classify(request('tools/list', { _meta: meta }), { ...HEADERS, protocolVersion: 'v999.0.0' }));
      expect(refusal).toEqual({
        status: 400,
        id: 7,
        error: { code: -32022, message: expect.any(String), data: { supported: ['2026-07-28'], requested: 'v999.0.0' } },
      });
    });

    it('refuses a legacy version claimed in the envelope with -32022', () => {
      const meta = { ...META, 'io.modelcontextprotocol/protocolVersion': '2025-11-25' };
      expect(refusalOf(classify(request('tools/list', { _meta: meta }), { ...HEADERS, protocolVersion: '2025-11-25' })).error.code).toBe(-32022);
    });

    it('refuses an Mcp-Method mismatch, a case change or a missing Mcp-Method with -32020', () => {
      const list = request('tools/list', { _meta: META });
      expect(refusalOf(classify(list, { ...HEADERS, mcpMethod: 'prompts/list' })).error.code).toBe(-32020);
      expect(refusalOf(classify(list, { ...HEADERS, mcpMethod: 'TOOLS/LIST' })).error.code).toBe(-32020);
      expect(refusalOf(classify(list, { protocolVersion: '2026-07-28' }))).toMatchObject({ status: 400, id: 7, error: { code: -32020 } });
    });

    it('checks the Mcp-Method mismatch before the unsupported version', () => {
      const meta = { ...META, 'io.modelcontextprotocol/protocolVersion': 'v999.0.0' };
      expect(refusalOf(classify(request('tools/list', { _meta: meta }), { protocolVersion: 'v999.0.0', mcpMethod: 'x' })).error.code).toBe(-32020);
    });

    it('refuses a missing MCP-Protocol-Version header with -32020', () => {
      expect(refusalOf(classify(request('tools/list', { _meta: META }), { mcpMethod: 'tools/list' })).error.code).toBe(-32020);
    });

    it.each([
      ['tools/call', { name: 'echo' }],
      ['prompts/get', { name: 'greet' }],
      ['resources/read', { uri: 'test://static-text' }],
    ])('refuses %s with a missing or mismatched Mcp-Name with -32020', (method, params) => {
      const message = request(method, { _meta: META, ...params });
      const headers = { protocolVersion: '2026-07-28', mcpMethod: method };
      expect(refusalOf(classify(message, headers))).toMatchObject({ status: 400, id: 7, error: { code: -32020 } });
      expect(refusalOf(classify(message, { ...headers, mcpName: 'other' })).error.code).toBe(-32020);
      expect(classify(message, { ...headers, mcpName: Object.values(params)[0] }).era).toBe('modern');
    });

    it('refuses a mirrored header sent twice with -32020, whatever the joined value says', () => {
      const call = request('tools/call', { _meta: META, name: 'a, b' });
      const headers = { protocolVersion: '2026-07-28', mcpMethod: 'tools/call', mcpName: 'a, b', repeated: 'mcp-name' };
      expect(refusalOf(classify(call, headers))).toMatchObject({ status: 400, id: 7, error: { code: -32020 } });
      expect(refusalOf(classify(request('notifications/initialized', { _meta: META }, null), { repeated: 'mcp-method' })).error.code).toBe(-32020);
    });

    it('leaves a legacy request with repeated headers to the 2025 path', () => {
      expect(classify(request('tools/list'), { protocolVersion: '2025-11-25', repeated: 'mcp-protocol-version' })).toEqual({ era: 'legacy' });
    });

    it('refuses an Mcp-Name longer than the bound with -32020 and takes one at the bound', () => {
      const long = 'n'.repeat(MAX_MIRRORED_HEADER_LENGTH);
      const headers = { protocolVersion: '2026-07-28', mcpMethod: 'tools/call' };
      expect(classify(request('tools/call', { _meta: META, name: long }), { ...headers, mcpName: long }).era).toBe('modern');
      const longer = `${long}n`;
      expect(refusalOf(classify(request('tools/call', { _meta: META, name: longer }), { ...headers, mcpName: longer })).error.code).toBe(-32020);
    });

    it('compares a Base64 sentinel Mcp-Name after decoding it', () => {
      const call = request('tools/call', { _meta: META, name: 'Hello' });
      const headers = { protocolVersion: '2026-07-28', mcpMethod: 'tools/call' };
      expect(classify(call, { ...headers, mcpName: '=?base64?SGVsbG8=?=' }).era).toBe('modern');
      expect(refusalOf(classify(call, { ...headers, mcpName: '=?base64?SGVsbG8?=' })).error.code).toBe(-32020);
      expect(refusalOf(classify(call, { ...headers, mcpName: '=?base64?SGVs!!!bG8=?=' })).error.code).toBe(-32020);
    });
  });
});

describe('decodeHeaderValue', () => {
  it('decodes a valid sentinel (UTF-8)', () => {
    expect(decodeHeaderValue('=?base64?SGVsbG8=?=')).toBe('Hello');
    expect(decodeHeaderValue(`=?base64?${Buffer.from('  café  ').toString('base64')}?=`)).toBe('  café  ');
  });

  it('rejects bad padding, bad characters and bytes that are not UTF-8', () => {
    expect(decodeHeaderValue('=?base64?SGVsbG8?=')).toBeUndefined();
    expect(decodeHeaderValue('=?base64?SGVs!!!bG8=?=')).toBeUndefined();
    expect(decodeHeaderValue('=?base64?SGVsbG8===?=')).toBeUndefined();
    expect(decodeHeaderValue(`=?base64?${Buffer.from([0xff, 0xfe]).toString('base64')}?=`)).toBeUndefined();
  });

  it('treats a value without the prefix or the suffix as a literal', () => {
    expect(decodeHeaderValue('SGVsbG8=?=')).toBe('SGVsbG8=?=');
    expect(decodeHeaderValue('=?base64?SGVsbG8=')).toBe('=?base64?SGVsbG8=');
    expect(decodeHeaderValue('=?BASE64?SGVsbG8=?=')).toBe('=?BASE64?SGVsbG8=?=');
  });

  it('rejects a literal with characters a header may not carry unencoded', () => {
    expect(decodeHeaderValue('caf\u00e9')).toBeUndefined();
    expect(decodeHeaderValue('a\u0001b')).toBeUndefined();
  });
});

describe('mayBeModern', () => {
  it('lets a 2025 POST through without a parse', () => {
    expect(mayBeModern('{"jsonrpc":"2.0","id":1,"method":"tools/list"}', { protocolVersion: '2025-11-25' })).toBe(false);
  });

  it('looks closer at a body naming the claim key or a modern version header', () => {
    expect(mayBeModern(JSON.stringify(request('tools/list', { _meta: META })), {})).toBe(true);
    expect(mayBeModern('{}', { protocolVersion: '2026-07-28' })).toBe(true);
  });
});

describe('modernErrorBody', () => {
  it('is a JSON-RPC error echoing the id', () => {
    expect(JSON.parse(modernErrorBody({ status: 400, id: 3, error: { code: -32020, message: 'Header mismatch' } }))).toEqual({
      jsonrpc: '2.0',
      id: 3,
      error: { code: -32020, message: 'Header mismatch' },
    });
  });
});

describe('paramHeadersOf', () => {
  it('finds x-mcp-header on properties reached through properties alone, at any depth', () => {
    const schema = {
      type: 'object',
      properties: {
        region: { type: 'string', 'x-mcp-header': 'Region' },
        target: { type: 'object', properties: { zone: { type: 'integer', 'x-mcp-header': 'Zone' } } },
        plain: { type: 'string' },
      },
    };
    expect(paramHeadersOf(schema)).toEqual([
      { name: 'Region', path: ['region'], type: 'string' },
      { name: 'Zone', path: ['target', 'zone'], type: 'integer' },
    ]);
  });

  it('ignores annotations no conforming client mirrors: on the root, under items or anyOf, or not a header token', () => {
    const schema = {
      type: 'object',
      'x-mcp-header': 'Root',
      properties: {
        list: { type: 'array', items: { type: 'string', 'x-mcp-header': 'Item' } },
        either: { anyOf: [{ type: 'string', 'x-mcp-header': 'Either' }] },
        spaced: { type: 'string', 'x-mcp-header': 'My Region' },
        crlf: { type: 'string', 'x-mcp-header': 'A\r\nX-Injected' },
        empty: { type: 'string', 'x-mcp-header': '' },
      },
    };
    expect(paramHeadersOf(schema)).toEqual([]);
    expect(paramHeadersOf(undefined)).toEqual([]);
  });
});

describe('checkParamHeaders', () => {
  const schema = {
    type: 'object',
    properties: {
      region: { type: 'string', 'x-mcp-header': 'Region' },
      count: { type: 'integer', 'x-mcp-header': 'Count' },
      dry: { type: 'boolean', 'x-mcp-header': 'Dry' },
      query: { type: 'string' },
    },
  };
  const check = (args: Record<string, unknown>, headers: Record<string, string[]>) => checkParamHeaders(schema, args, headers, 9);

  it('accepts headers that mirror the body: strings as they are, integers in decimal, booleans as true/false', () => {
    expect(check({ region: 'us-west1', count: 42, dry: false, query: 'x' }, { 'mcp-param-region': ['us-west1'], 'mcp-param-count': ['42'], 'mcp-param-dry': ['false'] })).toBeUndefined();
  });

  it('compares integers numerically (42.0 is 42)', () => {
    expect(check({ count: 42 }, { 'mcp-param-count': ['42.0'] })).toBeUndefined();
    expect(check({ count: 42 }, { 'mcp-param-count': ['43'] })?.error.code).toBe(-32020);
  });

  it('decodes a Base64 sentinel before comparing, and treats a value without prefix or suffix as a literal', () => {
    const hello = Buffer.from('Hello, 世界').toString('base64');
    expect(check({ region: 'Hello, 世界' }, { 'mcp-param-region': [`=?base64?${hello}?=`] })).toBeUndefined();
    expect(check({ region: hello }, { 'mcp-param-region': [hello] })).toBeUndefined();
    expect(check({ region: `=?base64?${hello}` }, { 'mcp-param-region': [`=?base64?${hello}`] })).toBeUndefined();
  });

  it('refuses a value in the body without its header (a non-conforming client) with 400 -32020', () => {
    expect(check({ region: 'us-west1' }, {})).toEqual({ status: 400, id: 9, error: { code: -32020, message: expect.stringMatching(/Mcp-Param-Region header is required/) } });
  });

  it('does not expect the header when the value is absent or null', () => {
    expect(check({ query: 'x' }, {})).toBeUndefined();
    expect(check({ region: null }, {})).toBeUndefined();
    expect(checkParamHeaders(schema, undefined, {}, 9)).toBeUndefined();
  });

  it('refuses a header that claims a value the body does not carry', () => {
    expect(check({ query: 'x' }, { 'mcp-param-region': ['eu-west1'] })?.error.code).toBe(-32020);
  });

  it('refuses a mismatch, bad Base64 padding or characters, bytes that are not UTF-8, and unsafe literal characters', () => {
    expect(check({ region: 'us-west1' }, { 'mcp-param-region': ['eu-west1'] })?.error.code).toBe(-32020);
    expect(check({ region: 'Hello' }, { 'mcp-param-region': ['=?base64?SGVsbG8?='] })?.error.code).toBe(-32020);
    expect(check({ region: 'Hello' }, { 'mcp-param-region': ['=?base64?SGVs!!!bG8=?='] })?.error.code).toBe(-32020);
    expect(check({ region: '\ufffd' }, { 'mcp-param-region': [`=?base64?${Buffer.from([0xc3, 0x28]).toString('base64')}?=`] })?.error.code).toBe(-32020);
    expect(check({ region: 'a\u0001b' }, { 'mcp-param-region': ['a\u0001b'] })?.error.code).toBe(-32020);
  });

  it('refuses a header sent twice and one longer than the bound', () => {
    expect(check({ region: 'a, b' }, { 'mcp-param-region': ['a', 'b'] })?.error.code).toBe(-32020);
    const long = 'r'.repeat(MAX_MIRRORED_HEADER_LENGTH + 1);
    expect(check({ region: long }, { 'mcp-param-region': [long] })?.error.code).toBe(-32020);
  });

  it('refuses a boolean or integer header written another way', () => {
    expect(check({ dry: true }, { 'mcp-param-dry': ['TRUE'] })?.error.code).toBe(-32020);
    expect(check({ dry: true }, { 'mcp-param-dry': ['1'] })?.error.code).toBe(-32020);
    expect(check({ count: 7 }, { 'mcp-param-count': ['0x7'] })?.error.code).toBe(-32020);
  });

  it('ignores an Mcp-Param header no declaration names', () => {
    expect(check({ query: 'x' }, { 'mcp-param-query': ['something else'] })).toBeUndefined();
  });
});

describe('modernAnswerBody', () => {
  it('rewrites the limit code of an in-band error and keeps results and other errors as they are', () => {
    const limited = { jsonrpc: '2.0', id: 1, error: { code: -32029, message: 'Too Many Requests', data: { limit: 'toolCallsPerMinute' } } };
    expect(modernAnswerBody(limited)).toEqual({ ...limited, error: { ...limited.error, code: -31429 } });
    const result = { jsonrpc: '2.0', id: 1, result: { resultType: 'complete' } };
    expect(modernAnswerBody(result)).toBe(result);
    const invalid = { jsonrpc: '2.0', id: 1, error: { code: -32602, message: 'Invalid params' } };
    expect(modernAnswerBody(invalid)).toBe(invalid);
  });
});
