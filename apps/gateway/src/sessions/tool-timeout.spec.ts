import { HandlerTimeoutError, runAbortable, type AbortScope } from './tool-timeout';

/** A session's abort scope as McpSession provides it. */
function sessionScope() {
  const lifetime = new AbortController();
  const running = new Set<(reason: unknown) => void>();
  const scope: AbortScope & { close(reason: unknown): void; running: Set<(reason: unknown) => void> } = {
    signal: lifetime.signal,
    onClose: (abort) => void running.add(abort),
    offClose: (abort) => void running.delete(abort),
    close(reason) {
      lifetime.abort(reason);
      for (const abort of [...running]) abort(reason);
    },
    running,
  };
  return scope;
}

/** A handler that never finishes on its own and records its signal. */
function hanging() {
  const seen: { signal?: AbortSignal } = {};
  const work = (signal: AbortSignal) => {
    seen.signal = signal;
    return new Promise<never>(() => undefined);
  };
  return { seen, work };
}

describe('runAbortable', () => {
  it('returns what the handler returns and leaves no listener, timer or session entry behind', async () => {
    const request = new AbortController();
    const session = sessionScope();
    await expect(runAbortable(() => 'done', request.signal, session, 1_000)).resolves.toBe('done');
    await expect(runAbortable(async () => 'later', request.signal, session, 1_000)).resolves.toBe('later');
    expect(session.running.size).toBe(0);
    // A late abort of the request reaches no finished handler.
    request.abort('late');
  });

  it('rejects with what the handler throws, synchronously or not', async () => {
    const session = sessionScope();
    const boom = new Error('boom');
    await expect(runAbortable(() => { throw boom; }, new AbortController().signal, session, 1_000)).rejects.toBe(boom);
    await expect(runAbortable(() => Promise.reject(boom), new AbortController().signal, session, 1_000)).rejects.toBe(boom);
    expect(session.running.size).toBe(0);
  });

  it('aborts the handler’s signal and rejects at once when the client cancels the request', async () => {
    const request = new AbortController();
    const session = sessionScope();
    const { seen, work } = hanging();
    const call = runAbortable(work, request.signal, session, 10_000);
    request.abort('changed my mind');
    await expect(call).rejects.toBe('changed my mind');
    expect(seen.signal!.aborted).toBe(true);
    expect(seen.signal!.reason).toBe('changed my mind');
    expect(session.running.size).toBe(0);
  });

  it('aborts the handler’s signal when its session ends', async () => {
    const session = sessionScope();
    const { seen, work } = hanging();
    const call = runAbortable(work, new AbortController().signal, session, 10_000);
    const closed = new Error('session closed');
    session.close(closed);
    await expect(call).rejects.toBe(closed);
    expect(seen.signal!.reason).toBe(closed);
  });

  it('aborts a handler that ignores its signal after the timeout', async () => {
    const { seen, work } = hanging();
    const error = await runAbortable(work, new AbortController().signal, sessionScope(), 20).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandlerTimeoutError);
    expect(seen.signal!.reason).toBe(error);
  });

  it('rejects a call whose request was already cancelled, with the request’s reason first', async () => {
    const request = new AbortController();
    request.abort('gone');
    const session = sessionScope();
    session.close(new Error('session closed'));
    const { seen, work } = hanging();
    await expect(runAbortable(work, request.signal, session, 1_000)).rejects.toBe('gone');
    expect(seen.signal!.aborted).toBe(true);
  });
});
