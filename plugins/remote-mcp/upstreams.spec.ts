import type { ToolResult } from '@switchboard/plugin-sdk';
import type { ConnectionEvents, Connector, UpstreamConnection, UpstreamTool } from './upstream-connection';
import { BACKOFF_BASE_MS, UpstreamSessionLostError } from './upstream-failures';
import { Upstreams } from './upstreams';

const target = { url: 'https://mcp.example.test/mcp', transport: 'streamable-http' as const };
const signal = () => new AbortController().signal;
const refused = () => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
const reset = () => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
const ok = (text: string): ToolResult => ({ content: [{ type: 'text', text }] });

/** A fake upstream: each connection is one session; `script` decides each request's fate. */
class FakeUpstream {
  sessions = 0;
  connectFailures: unknown[] = [];
  calls: Array<{ session: number; name: string }> = [];
  closed: number[] = [];
  tools: UpstreamTool[] = [{ name: 'echo', inputSchema: { type: 'object' } }];
  /** Failures for the next requests, in order; a request with none left succeeds. */
  script: unknown[] = [];
  events: ConnectionEvents[] = [];
  hold: Promise<void> | undefined;
  /** Called when a call reaches the upstream (before `hold` lets it answer). */
  entered: (() => void) | undefined;

  readonly connect: Connector = async (_target, _signal, events) => {
    const failure = this.connectFailures.shift();
    if (failure) throw failure;
    const session = ++this.sessions;
    this.events.push(events);
    const next = () => {
      const failure = this.script.shift();
      if (failure) throw failure;
    };
    const connection: UpstreamConnection = {
      listTools: async () => {
        next();
        return this.tools;
      },
      callTool: async (name) => {
        this.entered?.();
        await this.hold;
        this.calls.push({ session, name });
        next();
        return ok(`${name} on session ${session}`);
      },
      close: async () => void this.closed.push(session),
    };
    return connection;
  };
}

describe('Upstreams', () => {
  let fake: FakeUpstream;
  let upstreams: Upstreams;
  let now: number;
  beforeEach(() => {
    fake = new FakeUpstream();
    now = 1_000_000;
    upstreams = new Upstreams(fake.connect, undefined, { now: () => now, random: () => 1 });
  });
  afterEach(() => upstreams.close());

  const call = (name = 'echo') => upstreams.call('t1', target, name, {}, signal(), () => undefined);

  it('opens a new session and sends the call again when the upstream forgot the session', async () => {
    await call();
    fake.script = [new UpstreamSessionLostError({ cause: new Error('404') })];
    expect(await call()).toEqual(ok('echo on session 2'));
    expect(fake.sessions).toBe(2);
    expect(fake.closed).toEqual([1]);
  });

  it('sends a call again at most once', async () => {
    const lost = () => new UpstreamSessionLostError({ cause: new Error('404') });
    fake.script = [lost(), lost()];
    await expect(call()).rejects.toThrow(/forgot the session/);
    expect(fake.sessions).toBe(2);
  });

  it('does not repeat a call whose connection broke mid-way, but reconnects for the next one', async () => {
    fake.script = [reset()];
    await expect(call()).rejects.toThrow(/fetch failed/);
    expect(fake.calls).toHaveLength(1);
    expect(await call()).toEqual(ok('echo on session 2'));
  });

  it('lists again on a new session when the upstream forgot the session', async () => {
    await upstreams.list('t1', target, signal(), () => undefined);
    now += 60_000;
    fake.script = [new UpstreamSessionLostError({ cause: new Error('404') })];
    expect(await upstreams.list('t1', target, signal(), () => undefined)).toEqual(fake.tools);
    expect(fake.sessions).toBe(2);
  });

  it('lists again after a broken connection: a listing has no effect', async () => {
    fake.script = [reset()];
    expect(await upstreams.list('t1', target, signal(), () => undefined)).toEqual(fake.tools);
    expect(fake.sessions).toBe(2);
  });

  it('does not repeat a call the upstream answered with an error, and keeps the session', async () => {
    fake.script = [Object.assign(new Error('MCP error -32602: bad arguments'), { code: -32602 })];
    await expect(call()).rejects.toThrow(/bad arguments/);
    expect(await call()).toEqual(ok('echo on session 1'));
    expect(fake.calls).toHaveLength(2);
  });

  it('fails fast while backing off after a failed connection, and connects again once the wait is over', async () => {
    fake.connectFailures = [refused()];
    await expect(call()).rejects.toThrow(/fetch failed/);
    await expect(call()).rejects.toThrow(/unreachable \(fetch failed\); next connection attempt in 1 s/);
    expect(fake.sessions).toBe(0);
    now += BACKOFF_BASE_MS;
    expect(await call()).toEqual(ok('echo on session 1'));
  });

  it('waits longer after each failure in a row, and starts over after a success', async () => {
    fake.connectFailures = [refused(), refused(), refused()];
    await expect(call()).rejects.toThrow(/fetch failed/);
    now += BACKOFF_BASE_MS;
    await expect(call()).rejects.toThrow(/fetch failed/);
    now += BACKOFF_BASE_MS;
    await expect(call()).rejects.toThrow(/next connection attempt in 1 s/);
    now += BACKOFF_BASE_MS;
    await expect(call()).rejects.toThrow(/fetch failed/);
    now += 4 * BACKOFF_BASE_MS;
    await call();
    fake.script = [new UpstreamSessionLostError({ cause: new Error('404') })];
    fake.connectFailures = [refused()];
    await expect(call()).rejects.toThrow(/fetch failed/);
    await expect(call()).rejects.toThrow(/next connection attempt in 1 s/);
  });

  it('does not back off because a caller gave up', async () => {
    const abort = new AbortController();
    fake.connectFailures = [new Error('aborted')];
    abort.abort();
    await expect(upstreams.call('t1', target, 'echo', {}, abort.signal, () => undefined)).rejects.toThrow(/aborted/);
    expect(await call()).toEqual(ok('echo on session 1'));
  });

  it('keeps one backoff per tenant and configuration', async () => {
    fake.connectFailures = [refused()];
    await expect(call()).rejects.toThrow(/fetch failed/);
    const other = await upstreams.call('t2', target, 'echo', {}, signal(), () => undefined);
    expect(other).toEqual(ok('echo on session 1'));
    await expect(call()).rejects.toThrow(/next connection attempt/);
  });

  it('lets a call in flight finish on a connection lost meanwhile, then closes it', async () => {
    await call();
    let release!: () => void;
    fake.hold = new Promise((resolve) => (release = resolve));
    const reached = new Promise<void>((resolve) => (fake.entered = resolve));
    const inFlight = call();
    await reached;
    fake.events[0]!.lost();
    expect(fake.closed).toEqual([]);
    release();
    expect(await inFlight).toEqual(ok('echo on session 1'));
    expect(fake.closed).toEqual([1]);
    expect(await call()).toEqual(ok('echo on session 2'));
  });

  it('closes at once a connection whose answers can no longer arrive', async () => {
    await call();
    fake.hold = new Promise(() => undefined);
    const reached = new Promise<void>((resolve) => (fake.entered = resolve));
    void call().catch(() => undefined);
    await reached;
    fake.events[0]!.lost({ abandon: true });
    expect(fake.closed).toEqual([1]);
    fake.hold = undefined;
    expect(await call()).toEqual(ok('echo on session 2'));
  });

  it('tells the tenant when the upstream announces list_changed, and lists afresh', async () => {
    let told = 0;
    await upstreams.list('t1', target, signal(), () => told++);
    fake.tools = [...fake.tools, { name: 'added', inputSchema: { type: 'object' } }];
    expect(await upstreams.list('t1', target, signal(), () => told++)).toHaveLength(1);
    fake.events[0]!.toolsChanged();
    expect(told).toBe(1);
    expect(await upstreams.list('t1', target, signal(), () => told++)).toHaveLength(2);
  });

  it('tells the tenant when a new session shows other tools than the lost one', async () => {
    let told = 0;
    await upstreams.list('t1', target, signal(), () => told++);
    fake.events[0]!.lost();
    await upstreams.list('t1', target, signal(), () => told++);
    expect(told).toBe(0);
    fake.events[1]!.lost();
    fake.tools = [{ name: 'renamed', inputSchema: { type: 'object' } }];
    expect((await upstreams.list('t1', target, signal(), () => told++)).map((t) => t.name)).toEqual(['renamed']);
    expect(told).toBe(1);
  });

  it('tells the tenant to list again when a listing succeeds after failing', async () => {
    let told = 0;
    fake.connectFailures = [refused()];
    await expect(upstreams.list('t1', target, signal(), () => told++)).rejects.toThrow(/fetch failed/);
    now += BACKOFF_BASE_MS;
    await upstreams.list('t1', target, signal(), () => told++);
    expect(told).toBe(1);
  });

  it('keeps one connection per credential owner: two people with equal targets never share an upstream session', async () => {
    const personA = { ...target, bearerToken: 'same', connectionKey: 'person:a' };
    const personB = { ...target, bearerToken: 'same', connectionKey: 'person:b' };
    await upstreams.call('t1', personA, 'echo', {}, signal(), () => undefined);
    await upstreams.call('t1', personB, 'echo', {}, signal(), () => undefined);
    await upstreams.call('t1', personA, 'echo', {}, signal(), () => undefined);
    expect(fake.calls).toEqual([
      { session: 1, name: 'echo' },
      { session: 2, name: 'echo' },
      { session: 1, name: 'echo' },
    ]);
    expect(upstreams.size).toBe(2);
  });
});
