import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import type { Logger } from '@switchboard/logger';
import { ApiError, ApiErrorCode, httpStatusOf } from './api-error';

/**
 * The one place errors become HTTP responses. Besides ApiError it maps what the framework
 * throws before our code runs (Fastify's body parsing, Nest's route-not-found), so a client
 * mistake is never answered with a 500.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const error = this.toApiError(exception);
    const status = httpStatusOf(error.code);
    if (status >= 500 && error.code !== ApiErrorCode.NOT_READY) {
      this.logger.error({ err: exception }, 'unhandled error');
    }
    const body = { error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } };
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(body);
  }

  private toApiError(exception: unknown): ApiError {
    if (exception instanceof ApiError) return exception;
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
