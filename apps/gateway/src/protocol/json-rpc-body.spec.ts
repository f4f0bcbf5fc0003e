import { MAX_BATCH_MESSAGES, MAX_JSON_DEPTH, parseJsonRpcBody, requestIds, scanJsonRpcBody, UNSUPPORTED_BODY } from './json-rpc-body';

const ping = (id: number) => ({ jsonrpc: '2.0', id, method: 'ping' });
const nested = (levels: number) => '['.repeat(levels) + ']'.repeat(levels);

describe('parseJsonRpcBody', () => {
  it('parses one message and gives its size in bytes as received', () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'é' } });
    const parsed = parseJsonRpcBody(body);
    expect(parsed).toMatchObject({ ok: true, batch: false, sizes: [Buffer.byteLength(body)] });
  });

  it('gives each message of a batch its own size', () => {
    const first = JSON.stringify(ping(1));
    const second = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/x', params: { text: 'a,b]{"' } });
    const parsed = parseJsonRpcBody(` [ ${first} ,${second}] `);
    expect(parsed).toMatchObject({ ok: true, batch: true, sizes: [Buffer.byteLength(first), Buffer.byteLength(second)] });
  });

  it(`accepts a batch of ${MAX_BATCH_MESSAGES} and refuses one more before parsing it`, () => {
    const full = Array.from({ length: MAX_BATCH_MESSAGES }, (_, i) => ping(i));
    expect(parseJsonRpcBody(JSON.stringify(full))).toMatchObject({ ok: true });
    const over = parseJsonRpcBody(JSON.stringify([...full, ping(999)]));
    expect(over).toMatchObject({ ok: false, refusal: 'invalid_request', message: expect.stringContaining(`${MAX_BATCH_MESSAGES}`) });
  });

  it('refuses a batch of 90,000 pings as too long, not by parsing it', () => {
    const body = `[${Array.from({ length: 90_000 }, (_, i) => JSON.stringify(ping(i))).join(',')}]`;
    expect(parseJsonRpcBody(body)).toMatchObject({ ok: false, refusal: 'invalid_request' });
  });

  it('refuses an argument nested deeper than the bound, counting from the message', () => {
    const message = (levels: number) => `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"n","arguments":{"a":${nested(levels)}}}}`;
    // The envelope and `arguments` take three levels of the bound.
    expect(parseJsonRpcBody(message(MAX_JSON_DEPTH - 3))).toMatchObject({ ok: true });
    expect(parseJsonRpcBody(`[${message(MAX_JSON_DEPTH - 3)}]`)).toMatchObject({ ok: true });
    expect(parseJsonRpcBody(message(MAX_JSON_DEPTH - 2))).toMatchObject({ ok: false, refusal: 'invalid_request' });
    expect(parseJsonRpcBody(message(20_000))).toMatchObject({ ok: false, message: expect.stringContaining('nest') });
  });

  it('does not count brackets inside strings as nesting', () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'x', params: { text: `${'['.repeat(500)}\\"${'{'.repeat(500)}` } });
    expect(parseJsonRpcBody(body)).toMatchObject({ ok: true });
  });

  it('refuses batches for a protocol version that has none', () => {
    const body = JSON.stringify([ping(1)]);
    expect(parseJsonRpcBody(body, '2025-03-26')).toMatchObject({ ok: true });
    expect(parseJsonRpcBody(body, '2025-06-18')).toMatchObject({ ok: false, refusal: 'invalid_request' });
    expect(parseJsonRpcBody(body, '2025-11-25')).toMatchObject({ ok: false, refusal: 'invalid_request' });
  });

  it('answers malformed JSON, non-JSON content and non-JSON-RPC values with their own refusals', () => {
    expect(parseJsonRpcBody('{"jsonrpc":')).toMatchObject({ ok: false, refusal: 'parse_error' });
    expect(parseJsonRpcBody(UNSUPPORTED_BODY)).toMatchObject({ ok: false, refusal: 'unsupported_media_type' });
    expect(parseJsonRpcBody('[]')).toMatchObject({ ok: false, refusal: 'invalid_request' });
    expect(parseJsonRpcBody('{"jsonrpc":"1.0","id":1,"method":"x"}')).toMatchObject({ ok: false, refusal: 'invalid_request' });
  });
});

describe('requestIds', () => {
  it('lists the ids of requests only', () => {
    const parsed = parseJsonRpcBody(JSON.stringify([ping(1), { jsonrpc: '2.0', method: 'notifications/x' }, { jsonrpc: '2.0', id: 'a', result: {} }, ping(2)]));
    if (!parsed.ok) throw new Error('expected a parse');
    expect(requestIds(parsed.messages)).toEqual([1, 2]);
  });
});

describe('scanJsonRpcBody', () => {
  it('counts the messages of a body without parsing it, and refuses what the parse would refuse first', () => {
    expect(scanJsonRpcBody(JSON.stringify(ping(1)))).toMatchObject({ ok: true, count: 1 });
    expect(scanJsonRpcBody(JSON.stringify([ping(1), ping(2), ping(3)]))).toMatchObject({ ok: true, count: 3 });
    // Not JSON at all still scans (the parse names it a parse error); too deep or too long does not.
    expect(scanJsonRpcBody('{"jsonrpc":')).toMatchObject({ ok: true, count: 1 });
    expect(scanJsonRpcBody(nested(MAX_JSON_DEPTH + 2))).toMatchObject({ ok: false, refusal: 'invalid_request' });
    expect(scanJsonRpcBody(JSON.stringify(Array.from({ length: MAX_BATCH_MESSAGES + 1 }, (_, i) => ping(i))))).toMatchObject({ ok: false, refusal: 'invalid_request' });
    expect(scanJsonRpcBody(UNSUPPORTED_BODY)).toEqual({ ok: false, refusal: 'unsupported_media_type' });
  });

  it('hands its scan to the parse, which answers exactly as it would from the raw body', () => {
    for (const body of [JSON.stringify(ping(1)), JSON.stringify([ping(1), { jsonrpc: '2.0', method: 'notifications/x' }]), '{"jsonrpc":', '[]']) {
      const scanned = scanJsonRpcBody(body);
      expect(parseJsonRpcBody(scanned, '2025-03-26')).toEqual(parseJsonRpcBody(body, '2025-03-26'));
    }
  });
});
