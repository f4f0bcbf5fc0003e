import { BlockedAddressError } from '@switchboard/plugin-net';
import { BACKOFF_BASE_MS, BACKOFF_MAX_MS, Backoff, classifyFailure, mayRetry, refusalMeansSessionLost, UpstreamBackoffError, UpstreamSessionLostError } from './upstream-failures';

const networkError = (code: string) => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(code), { code }) });

describe('upstream failures', () => {
  it('tells a forgotten session, a connection never made and a connection broken mid-way apart', () => {
    expect(classifyFailure(new UpstreamSessionLostError({ cause: new Error('404') }))).toBe('session-lost');
    expect(classifyFailure(networkError('ECONNREFUSED'))).toBe('refused');
    expect(classifyFailure(networkError('ECONNRESET'))).toBe('interrupted');
    expect(classifyFailure(networkError('UND_ERR_SOCKET'))).toBe('interrupted');
    expect(classifyFailure(Object.assign(new Error('MCP error -32000: Connection closed'), { code: -32000 }))).toBe('interrupted');
  });

  it('does not take an upstream\'s own error or a policy refusal for a network failure', () => {
    expect(classifyFailure(Object.assign(new Error('MCP error -32000: quota exceeded'), { code: -32000 }))).toBe('other');
    expect(classifyFailure(Object.assign(new Error('Streamable HTTP error: 500'), { code: 500 }))).toBe('other');
    expect(classifyFailure(new TypeError('fetch failed', { cause: new BlockedAddressError('10.0.0.1', 'private') }))).toBe('other');
  });

  describe('an HTTP refusal as a lost session', () => {
    /** What the official SDK's example servers answer an id missing from their map of transports. */
    const SDK_EXAMPLE_400 = JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: No valid session ID provided' }, id: null });
    const refusal = (overrides: Partial<Parameters<typeof refusalMeansSessionLost>[0]>) =>
      refusalMeansSessionLost({ status: 400, carriedSession: true, method: 'tools/call', body: SDK_EXAMPLE_400, ...overrides });

    it('takes a 404 on a request with a session id for a forgotten session, whatever its body', () => {
      expect(refusal({ status: 404, body: '' })).toBe(true);
      expect(refusal({ status: 404, body: 'Not Found', method: 'tools/list' })).toBe(true);
    });

    it('takes a 400 for a forgotten session when it answers a session id with a JSON-RPC error about the session', () => {
      expect(refusal({})).toBe(true);
      expect(refusal({ method: 'tools/list' })).toBe(true);
      // Case-insensitive, any wording that names the session; the method unknown (the transport's own report).
      expect(refusal({ method: undefined, body: JSON.stringify({ jsonrpc: '2.0', error: { code: -32600, message: 'Invalid or expired SESSION' }, id: 1 }) })).toBe(true);
    });

    it('does not take a 404 or 400 without a session id for one: a wrong URL, or a request refused for itself', () => {
      expect(refusal({ status: 404, carriedSession: false })).toBe(false);
      expect(refusal({ carriedSession: false })).toBe(false);
    });

    it('does not take a 400 to initialize for a lost session: a new session would be refused the same', () => {
      expect(refusal({ method: 'initialize' })).toBe(false);
    });

    it('does not take any other 400 for a lost session: no JSON-RPC error, or one that does not mention the session', () => {
      expect(refusal({ body: 'Bad Request: No valid session ID provided' })).toBe(false);
      expect(refusal({ body: '' })).toBe(false);
      expect(refusal({ body: JSON.stringify({ jsonrpc: '2.0', error: { code: -32602, message: 'Invalid params: title is required' }, id: 1 }) })).toBe(false);
      expect(refusal({ body: JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'Parse error' }, id: null }) })).toBe(false);
      // Not JSON-RPC: no version, no numeric code, a message elsewhere, a batch.
      expect(refusal({ body: JSON.stringify({ error: { code: -32000, message: 'No valid session ID provided' } }) })).toBe(false);
      expect(refusal({ body: JSON.stringify({ jsonrpc: '2.0', error: { code: 'x', message: 'No valid session ID provided' }, id: null }) })).toBe(false);
      expect(refusal({ body: JSON.stringify({ jsonrpc: '2.0', result: { note: 'session' }, id: 1 }) })).toBe(false);
      expect(refusal({ body: `[${SDK_EXAMPLE_400}]` })).toBe(false);
    });

    it('does not take another status with a session message for a lost session', () => {
      for (const status of [401, 403, 409, 500]) expect({ status, lost: refusal({ status }) }).toEqual({ status, lost: false });
    });
  });

  it('sends a call again only when the upstream cannot have run it', () => {
    expect(mayRetry('call', 'session-lost')).toBe(true);
    expect(mayRetry('call', 'refused')).toBe(true);
    expect(mayRetry('call', 'interrupted')).toBe(false);
    expect(mayRetry('call', 'other')).toBe(false);
  });

  it('lists again after any network failure: a listing has no effect', () => {
    expect(mayRetry('list', 'interrupted')).toBe(true);
    expect(mayRetry('list', 'session-lost')).toBe(true);
    expect(mayRetry('list', 'other')).toBe(false);
  });

  describe('backoff', () => {
    let now = 1_000_000;
    const clock = () => now;

    it('lets the first attempt through, then waits between half and all of a doubling delay', () => {
      const lowest = new Backoff(clock, () => 0);
      const highest = new Backoff(clock, () => 1);
      expect(() => lowest.check()).not.toThrow();
      expect([lowest.failed(new Error('x')), lowest.failed(new Error('x')), lowest.failed(new Error('x'))]).toEqual([BACKOFF_BASE_MS / 2, BACKOFF_BASE_MS, BACKOFF_BASE_MS * 2]);
      expect([highest.failed(new Error('x')), highest.failed(new Error('x')), highest.failed(new Error('x'))]).toEqual([BACKOFF_BASE_MS, BACKOFF_BASE_MS * 2, BACKOFF_BASE_MS * 4]);
    });

    it('never waits longer than the cap', () => {
      const backoff = new Backoff(clock, () => 1);
      const delays = Array.from({ length: 40 }, () => backoff.failed(new Error('down')));
      expect(Math.max(...delays)).toBe(BACKOFF_MAX_MS);
    });

    it('refuses attempts while waiting, saying why and when it tries again', () => {
      const backoff = new Backoff(clock, () => 1);
      backoff.failed(new Error('connect ECONNREFUSED 127.0.0.1:9'));
      backoff.failed(new Error('connect ECONNREFUSED 127.0.0.1:9'));
      let refusal: unknown;
      try {
        backoff.check();
      } catch (error) {
        refusal = error;
      }
      expect(refusal).toBeInstanceOf(UpstreamBackoffError);
      expect((refusal as UpstreamBackoffError).retryAt).toBe(now + 2 * BACKOFF_BASE_MS);
      expect((refusal as Error).message).toBe(`unreachable (connect ECONNREFUSED 127.0.0.1:9); next connection attempt in 2 s, after ${new Date(now + 2_000).toISOString()}`);
      now += 2 * BACKOFF_BASE_MS;
      expect(() => backoff.check()).not.toThrow();
    });

    it('starts from the beginning after a success', () => {
      const backoff = new Backoff(clock, () => 1);
      for (let i = 0; i < 5; i++) backoff.failed(new Error('down'));
      backoff.succeeded();
      expect(() => backoff.check()).not.toThrow();
      expect(backoff.failuresInARow).toBe(0);
      expect(backoff.failed(new Error('down'))).toBe(BACKOFF_BASE_MS);
    });
  });
});
