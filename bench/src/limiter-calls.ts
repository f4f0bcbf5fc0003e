import type { Limiter, LimitPrincipal } from '@switchboard/limits';

/**
 * What one tool call costs the limiter, as the gateway calls it: the POST's request check, the
 * tool call's checks (windows, quota, in-flight slot), then the release. Both limits benches
 * drive this one sequence, so "a tool call" means the same in each.
 */
export async function limitedToolCall(limiter: Limiter, principal: LimitPrincipal): Promise<void> {
  const request = await limiter.consumeRequest(principal);
  if (!request.allowed) throw new Error(`request refused: ${request.limit}`);
  const call = await limiter.admitToolCall(principal);
  if (!call.allowed) throw new Error(`tool call refused: ${call.limit}`);
  // As the gateway does: the answer does not wait for the slot to be given back.
  void call.release?.();
}

/** `calls` tool calls through `callers` concurrent callers. */
export async function driveToolCalls(limiter: Limiter, principal: LimitPrincipal, calls: number, callers: number): Promise<void> {
  let next = 0;
  const caller = async () => {
    while (next++ < calls) await limitedToolCall(limiter, principal);
  };
  await Promise.all(Array.from({ length: callers }, caller));
}
