import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { isDatabaseUnavailable } from '@switchboard/db';
import type { Logger } from '@switchboard/logger';
import { ApiError, ApiErrorCode, httpStatusOf, retryAfterOf } from './api-error';

/**
 * The one place errors become HTTP responses. Besides ApiError it maps what the framework
 * throws before our code runs (Fastify's body parsing, Nest's route-not-found), so a client
 * mistake is never answered with a 500.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    this.reply(host.switchToHttp().getResponse<FastifyReply>(), exception);
  }

  /** Answers `exception` on `reply`; also used by Fastify hooks that refuse before Nest runs. */
  reply(reply: FastifyReply, exception: unknown): FastifyReply {
    const error = this.toApiError(exception);
    const status = httpStatusOf(error.code);
    if (error.code === ApiErrorCode.DATABASE_UNAVAILABLE) {
      // Expected during an outage, one line per request: a warning, not an error with a stack to fix.
      this.logger.warn({ err: exception }, 'database unavailable');
    } else if (status >= 500 && error.code !== ApiErrorCode.NOT_READY) {
      this.logger.error({ err: exception }, 'unhandled error');
    }
    const body = { error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } };
    const retryAfter = retryAfterOf(error.code);
    if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter));
    return reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
  }

  private toApiError(exception: unknown): ApiError {
    if (exception instanceof ApiError) return exception;
    // The cause is ours (a dependency), not the client's: 503 and when to retry, not a 500.
    if (isDatabaseUnavailable(exception)) return new ApiError(ApiErrorCode.DATABASE_UNAVAILABLE);
    const status = statusOf(exception);
    const fastifyCode = (exception as { code?: unknown } | null)?.code;
    switch (true) {
      case status === 404:
        return new ApiError(ApiErrorCode.ROUTE_NOT_FOUND);
      case status === 413:
        return new ApiError(ApiErrorCode.PAYLOAD_TOO_LARGE);
      case status === 415:
        return new ApiError(ApiErrorCode.UNSUPPORTED_MEDIA_TYPE);
      case status === 401:
        return new ApiError(ApiErrorCode.UNAUTHENTICATED);
      case status === 403:
        return new ApiError(ApiErrorCode.FORBIDDEN);
      // Nest turns JSON.parse's SyntaxError into a 400; Fastify flags empty or invalid JSON bodies.
      case exception instanceof SyntaxError:
      case typeof fastifyCode === 'string' && fastifyCode.startsWith('FST_ERR_CTP'):
      case status === 400:
        return new ApiError(ApiErrorCode.MALFORMED_REQUEST);
      case status !== undefined && status >= 400 && status < 500:
        return new ApiError(ApiErrorCode.MALFORMED_REQUEST, 'The request was rejected.');
      default:
        return new ApiError(ApiErrorCode.INTERNAL);
    }
  }
}

function statusOf(exception: unknown): number | undefined {
  if (exception instanceof HttpException) return exception.getStatus();
  const status = (exception as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}
