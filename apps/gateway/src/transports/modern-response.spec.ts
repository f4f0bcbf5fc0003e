import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { KEEP_ALIVE_FRAME } from '../protocol/web-exchange';
import { ModernResponse } from './modern-response';

/** The part of a Node response ModernResponse touches, recording what was written. */
class FakeResponse extends EventEmitter {
  head: { status: number; headers: Record<string, string> } | undefined;
  written = '';
  writableLength = 0;
  writableEnded = false;
  destroyed = false;
  /** Whether the fake client reads what is written; when not, it piles up as unread bytes. */
  clientReads = true;

  writeHead(status: number, headers: Record<string, string>): this {
    this.head = { status, headers };
    return this;
  }
  flushHeaders(): void {}
  write(chunk: string): boolean {
    this.written += chunk;
    if (!this.clientReads) this.writableLength += chunk.length;
    return true;
  }
  end(chunk?: string): this {
    if (chunk) this.written += chunk;
    this.writableEnded = true;
    this.emit('close');
    return this;
  }
  destroy(): this {
    this.destroyed = true;
    this.emit('close');
    return this;
  }
}

const progress = (n: number) => ({ method: 'notifications/progress', params: { progressToken: 't', progress: n } });

function respond(options: { keepAliveMs?: number; maxBufferedBytes?: number } = {}) {
  const res = new FakeResponse();
  const slow = { count: 0 };
  const response = new ModernResponse(res as unknown as ServerResponse, {
    keepAliveMs: options.keepAliveMs ?? 60_000,
    maxBufferedBytes: options.maxBufferedBytes ?? 1024,
    onSlowReader: () => void (slow.count += 1),
  });
  return { res, response, slow };
}

describe('ModernResponse (response mode "auto")', () => {
  it('answers JSON, with the handler’s status, when no notification came first', () => {
    const { res, response } = respond();
    response.answer(400, '{"id":1}');
    expect(res.head).toEqual({ status: 400, headers: { 'content-type': 'application/json' } });
    expect(res.written).toBe('{"id":1}');
  });

  it('becomes an event stream at the first notification and ends with the final response', () => {
    const { res, response } = respond();
    response.notify(progress(1));
    expect(res.head).toEqual({ status: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' } });
    response.notify(progress(2));
    response.answer(200, '{"jsonrpc":"2.0","id":1,"result":{}}');
    expect(res.written).toBe(
      'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t","progress":1}}\n\n' +
        'event: message\ndata: {"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t","progress":2}}\n\n' +
        'event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n',
    );
    expect(res.writableEnded).toBe(true);
  });

  it('keeps a quiet event stream alive with comments until it ends', () => {
    jest.useFakeTimers();
    try {
      const { res, response } = respond({ keepAliveMs: 1_000 });
      response.notify(progress(1));
      jest.advanceTimersByTime(2_500);
      expect(res.written.split(KEEP_ALIVE_FRAME)).toHaveLength(3);
      response.answer(200, '{}');
      const ended = res.written;
      jest.advanceTimersByTime(5_000);
      expect(res.written).toBe(ended);
    } finally {
      jest.useRealTimers();
    }
  });

  it('destroys the socket of a client that stopped reading, once, and writes nothing after', () => {
    // One progress frame is about 110 bytes: the second one goes past the bound.
    const { res, response, slow } = respond({ maxBufferedBytes: 200 });
    res.clientReads = false;
    response.notify(progress(1));
    expect(res.destroyed).toBe(false);
    response.notify(progress(2));
    expect([res.destroyed, slow.count]).toEqual([true, 1]);
    const cut = res.written;
    response.notify(progress(3));
    response.answer(200, '{}');
    expect([res.written, slow.count]).toEqual([cut, 1]);
  });

  it('drops a notification JSON cannot carry, without committing the answer to a stream', () => {
    const { res, response } = respond();
    response.notify({ method: 'notifications/message', params: { data: BigInt(1) } });
    response.answer(200, '{}');
    expect(res.head?.headers['content-type']).toBe('application/json');
  });
});
