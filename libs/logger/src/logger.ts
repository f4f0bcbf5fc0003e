import pino, { type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Paths pino blanks out wherever they appear in a log object. Keys, tokens and plugin secrets
 * must never reach logs; code should not log them in the first place, this is the safety net.
 */
export const REDACTED_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.cookie',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'secrets',
  '*.secrets',
  'apiKey',
  '*.apiKey',
  'password',
  '*.password',
  'config.secrets',
];

/** Matches Switchboard API keys (sbk_…) and JWT-shaped strings anywhere in a string. */
const SECRET_PATTERNS = [/sbk_[A-Za-z0-9]+_[A-Za-z0-9]+/g, /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+/g];

/** Masks key- and token-shaped substrings, for free text such as error messages. */
export function maskSecrets(text: string): string {
  return SECRET_PATTERNS.reduce((out, pattern) => out.replace(pattern, '[REDACTED]'), text);
}

/**
 * Lines to stdout are written in batches of this many bytes, or after LOG_FLUSH_MS, whichever
 * comes first; on exit the rest is flushed synchronously (pino's exit hook), so only a SIGKILL
 * can lose the last LOG_FLUSH_MS of lines. One write per line cost about 12% of a legacy-SSE
 * tool call's CPU on a busy gateway (docs/performance.md).
 */
export const LOG_BATCH_BYTES = 4096;
export const LOG_FLUSH_MS = 100;

export interface LoggerOptions {
  name: string;
  level: string;
  nodeId?: string;
  destination?: DestinationStream;
  /**
   * Fields added to every line, read when the line is written: e.g. the request id and tenant
   * of the request being handled, kept in an AsyncLocalStorage by the app.
   */
  context?: () => Record<string, unknown>;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      name: options.name,
      level: options.level,
      base: options.nodeId ? { node: options.nodeId } : {},
      ...(options.context ? { mixin: options.context } : {}),
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        // Free-text messages get the same protection as structured fields.
        logMethod(args, method) {
          const masked = args.map((arg) => (typeof arg === 'string' ? maskSecrets(arg) : arg));
          return method.apply(this, masked as Parameters<typeof method>);
        },
      },
    },
    options.destination ?? pino.destination({ dest: 1, sync: false, minLength: LOG_BATCH_BYTES, periodicFlush: LOG_FLUSH_MS }),
  );
}
