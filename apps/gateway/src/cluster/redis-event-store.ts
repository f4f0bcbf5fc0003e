import type { EventStore } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { ClusterKeys } from '@switchboard/coordination';
import type { NodeLink } from './node-link';

/** The SDK transport's name for the standalone GET stream (server-initiated messages). */
const STANDALONE_STREAM_ID = '_GET_stream';
/** Events kept per session for resumption: the newest this many ... */
export const EVENT_RETENTION_COUNT = 1_000;
/** ... and for at most this long after the last one. */
export const EVENT_RETENTION_MS = 5 * 60_000;
const SEPARATOR = '|';
/** What XADD returns: `<ms>-<seq>`. */
const STREAM_ENTRY_ID = /^\d+-\d+$/;

/**
 * Resumability of a Streamable HTTP session's GET stream, kept in Redis for a bounded window
 * (XADD with MAXLEN, PEXPIRE). A client whose stream broke (its node died, the balancer dropped
 * it) reconnects with Last-Event-ID through any node, which tunnels to the owner, which replays
 * from here. Redis rather than the owner's memory, because 10,000 idle sessions each holding a
 * buffer would cost the node memory it does not otherwise need.
 *
 * Only the GET stream is stored. A POST's response stream ends with its response, and storing
 * each tool result would put a Redis write on the hot path; its events get ids (a resuming
 * client can still pick up a response that was not sent yet) but nothing is replayed for them.
 */
export class RedisEventStore implements EventStore {
  private unstoredEvents = 0;

  constructor(
    private readonly link: NodeLink,
    private readonly keys: ClusterKeys,
    private readonly sessionId: string,
  ) {}

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    if (streamId !== STANDALONE_STREAM_ID) return this.unstoredId(streamId);
    const key = this.keys.sessionEvents(this.sessionId);
    try {
      const result = await this.link.redis
        .multi()
        .xadd(key, 'MAXLEN', '~', EVENT_RETENTION_COUNT, '*', 'm', JSON.stringify(message))
        .pexpire(key, EVENT_RETENTION_MS)
        .exec();
      const entryId = result?.[0]?.[1];
      if (typeof entryId === 'string') return `${streamId}${SEPARATOR}${entryId}`;
    } catch {
      // Redis is away: the event still goes out on the live stream (the SDK writes it after
      // this returns); only its resumption is lost.
    }
    return this.unstoredId(streamId);
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    const separator = eventId.lastIndexOf(SEPARATOR);
    return separator > 0 ? eventId.slice(0, separator) : undefined;
  }

  async replayEventsAfter(lastEventId: string, { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> }): Promise<string> {
    const streamId = (await this.getStreamIdForEventId(lastEventId)) ?? STANDALONE_STREAM_ID;
    if (streamId !== STANDALONE_STREAM_ID) return streamId;
    const after = lastEventId.slice(streamId.length + 1);
    // An id that was never stored (Redis was away) has nothing after it to replay.
    if (!STREAM_ENTRY_ID.test(after)) return streamId;
    // `(` makes the start exclusive: everything after the client's last event.
    const entries = await this.link.redis.xrange(this.keys.sessionEvents(this.sessionId), `(${after}`, '+');
    for (const [entryId, fields] of entries) {
      await send(`${streamId}${SEPARATOR}${entryId}`, JSON.parse(fields[1]!) as JSONRPCMessage);
    }
    return streamId;
  }

  /** An event id for an event that is not kept (POST streams, or Redis away). */
  private unstoredId(streamId: string): string {
    return `${streamId}${SEPARATOR}local-${++this.unstoredEvents}`;
  }
}
