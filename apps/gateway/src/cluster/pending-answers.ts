type JsonRpcId = string | number;

/**
 * The JSON-RPC requests of a forwarded POST whose answer streams back as SSE, and which of them
 * the relayed stream has answered. When the owner goes away mid-stream, the receiving node
 * answers the rest itself: a client whose POST stream ends without its response tries to resume
 * it, finds the session gone (404) and would otherwise wait for its own timeout.
 * Only answers that outlast their first message are watched; the request body is parsed only
 * when such a stream ends abnormally.
 */
export class PendingAnswers {
  private readonly answered = new Set<JsonRpcId>();
  /** An incomplete last line of the text seen so far. */
  private partial = '';

  constructor(private readonly requestBody: string | undefined) {}

  /** Notes the responses in a piece of the relayed event stream. */
  observe(text: string): void {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      // Progress, logging and server requests carry no result or error: most lines stop here.
      if (!line.startsWith('data:') || !(line.includes('"result"') || line.includes('"error"'))) continue;
      const id = responseId(line.slice('data:'.length));
      if (id !== undefined) this.answered.add(id);
    }
  }

  /** One SSE `message` event with this JSON-RPC error for each request not answered yet. */
  errorEvents(code: number, message: string): string {
    return requestIds(this.requestBody)
      .filter((id) => !this.answered.has(id))
      .map((id) => `event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } })}\n\n`)
      .join('');
  }
}

function isId(value: unknown): value is JsonRpcId {
  return typeof value === 'string' || typeof value === 'number';
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The id of a JSON-RPC response (result or error, no method), if `data` is one. */
function responseId(data: string): JsonRpcId | undefined {
  const message = parse(data);
  if (typeof message !== 'object' || message === null || 'method' in message) return undefined;
  const { id } = message as { id?: unknown };
  return isId(id) ? id : undefined;
}

/** The ids of the requests (not notifications) in a JSON-RPC body, single or batch. */
function requestIds(body: string | undefined): JsonRpcId[] {
  const parsed = body === undefined ? undefined : parse(body);
  const messages: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
  const ids: JsonRpcId[] = [];
  for (const message of messages) {
    if (typeof message !== 'object' || message === null || !('method' in message)) continue;
    const { id } = message as { id?: unknown };
    if (isId(id)) ids.push(id);
  }
  return ids;
}
