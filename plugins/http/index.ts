import { NodeHtmlMarkdown } from 'node-html-markdown';
import { z } from 'zod';
import { definePlugin, defineTool, type ToolResult } from '@switchboard/plugin-sdk';
import { BlockedAddressError, readLimited, type GuardedFetchHandle } from '@switchboard/plugin-net';

/** Bytes read from a response at most; the rest is not downloaded. */
export const MAX_RESPONSE_BYTES = 2 * 1024 * 1024;
/** Characters returned to the model at most (after conversion). */
export const MAX_OUTPUT_CHARS = 100_000;
/** The whole fetch, redirects included; the gateway aborts the handler at this point. */
export const FETCH_TIMEOUT_MS = 15_000;

const TEXT_TYPES = /^(text\/|application\/(json|xml|xhtml\+xml|javascript|ld\+json|rss\+xml|atom\+xml)\b)/i;

/**
 * What `setup` opens on each gateway: one guarded connection pool, under the platform's outbound
 * policy (the ranges the operator opened, none by default; tenants cannot change it).
 */
type HttpState = GuardedFetchHandle;

export default definePlugin({
  name: 'http',
  version: '1.0.0',
  description: 'Fetches a public http(s) URL and returns it as markdown or text. Private, loopback and metadata addresses are refused.',
  timeoutMs: FETCH_TIMEOUT_MS,
  setup: (ctx): HttpState => ctx.outbound.createFetch(),
  close: (state) => state.close(),
  tools: [
    defineTool({
      name: 'fetch',
      description: 'Fetches a URL (http or https, public addresses only) and returns the page as markdown (HTML) or text.',
      input: z.object({
        url: z.string().url().max(2048),
        format: z.enum(['markdown', 'text']).default('markdown').describe('markdown converts HTML; text returns the body as is'),
      }),
      annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: true },
      handler: async ({ url, format }, ctx): Promise<ToolResult> => {
        const { fetch } = ctx.state as HttpState;
        let response;
        try {
          response = await fetch(url, { signal: ctx.signal, headers: { accept: 'text/html, text/plain;q=0.9, */*;q=0.5', 'user-agent': 'switchboard-http/1.0' } });
        } catch (error) {
          return failure(describeFetchError(error));
        }
        const type = response.headers.get('content-type') ?? 'text/plain';
        if (!TEXT_TYPES.test(type)) {
          await response.body?.cancel();
          return failure(`${response.url || url} answered ${response.status} with ${type}, which is not text`);
        }
        const { bytes, truncated } = await readLimited(response, MAX_RESPONSE_BYTES);
        const raw = bytes.toString('utf8');
        const converted = format === 'markdown' && /html/i.test(type) ? NodeHtmlMarkdown.translate(raw) : raw;
        const clipped = converted.length > MAX_OUTPUT_CHARS;
        const text = clipped ? converted.slice(0, MAX_OUTPUT_CHARS) : converted;
        const notes = [truncated ? `download stopped at ${MAX_RESPONSE_BYTES} bytes` : '', clipped ? `output clipped at ${MAX_OUTPUT_CHARS} characters` : ''].filter(Boolean);
        return {
          content: [{ type: 'text', text: notes.length ? `${text}\n\n[${notes.join('; ')}]` : text }],
          structuredContent: { url: response.url || url, status: response.status, contentType: type, truncated: truncated || clipped },
          ...(response.ok ? {} : { isError: true }),
        };
      },
    }),
  ],
});

function failure(text: string): ToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

/** undici wraps connect errors ("fetch failed"); the cause says what happened. */
function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: unknown })?.cause;
  if (error instanceof BlockedAddressError) return error.message;
  if (cause instanceof BlockedAddressError) return cause.message;
  if ((error as Error)?.name === 'AbortError' || (error as Error)?.name === 'TimeoutError') return 'The fetch was aborted (timeout or cancellation)';
  const detail = cause instanceof Error ? cause.message : error instanceof Error ? error.message : String(error);
  return `Fetch failed: ${detail}`;
}
