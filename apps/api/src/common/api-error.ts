/**
 * Every error the admin API returns has one of these codes, one HTTP status and one body:
 * `{ "error": { "code", "message", "details"? } }`. Services throw ApiError; the exception
 * filter is the only place that turns errors into HTTP responses.
 */
export enum ApiErrorCode {
  VALIDATION_FAILED = 'VALIDATION_FAILED',
  MALFORMED_REQUEST = 'MALFORMED_REQUEST',
  UNSUPPORTED_MEDIA_TYPE = 'UNSUPPORTED_MEDIA_TYPE',
  PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  ROUTE_NOT_FOUND = 'ROUTE_NOT_FOUND',
  TENANT_NOT_FOUND = 'TENANT_NOT_FOUND',
  API_KEY_NOT_FOUND = 'API_KEY_NOT_FOUND',
  OAUTH_CLIENT_NOT_FOUND = 'OAUTH_CLIENT_NOT_FOUND',
  OAUTH_GRANT_NOT_FOUND = 'OAUTH_GRANT_NOT_FOUND',
  SESSION_NOT_FOUND = 'SESSION_NOT_FOUND',
  PLUGIN_NOT_FOUND = 'PLUGIN_NOT_FOUND',
  PLUGIN_NOT_INSTALLED = 'PLUGIN_NOT_INSTALLED',
  INVALID_PLUGIN_CONFIG = 'INVALID_PLUGIN_CONFIG',
  TEMPLATE_NOT_FOUND = 'TEMPLATE_NOT_FOUND',
  USAGE_JOB_NOT_FOUND = 'USAGE_JOB_NOT_FOUND',
  TEMPLATE_NAME_TAKEN = 'TEMPLATE_NAME_TAKEN',
  TEMPLATE_IN_USE = 'TEMPLATE_IN_USE',
  SLUG_TAKEN = 'SLUG_TAKEN',
  API_KEY_NOT_ACTIVE = 'API_KEY_NOT_ACTIVE',
  PLUGIN_NOT_ALLOWED = 'PLUGIN_NOT_ALLOWED',
  /** The tenant already has an installation of that name, of another plugin. */
  INSTALLATION_NAME_TAKEN = 'INSTALLATION_NAME_TAKEN',
  VIRTUAL_SERVER_NOT_FOUND = 'VIRTUAL_SERVER_NOT_FOUND',
  VIRTUAL_SERVER_NAME_TAKEN = 'VIRTUAL_SERVER_NAME_TAKEN',
  NOT_READY = 'NOT_READY',
  /** A dependency (the database) is unreachable: the request was fine, retry after Retry-After. */
  DATABASE_UNAVAILABLE = 'DATABASE_UNAVAILABLE',
  INTERNAL = 'INTERNAL',
}

/** A field-level validation problem; `path` is dotted (`limits.requestsPerMinute`, `plugins.0`). */
export interface FieldIssue {
  path: string;
  message: string;
}

export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message ?? defaultMessage(code));
    this.name = 'ApiError';
  }

  static validation(issues: FieldIssue[], message = 'The request is invalid.'): ApiError {
    return new ApiError(ApiErrorCode.VALIDATION_FAILED, message, { issues });
  }
}

export function httpStatusOf(code: ApiErrorCode): number {
  switch (code) {
    case ApiErrorCode.VALIDATION_FAILED:
    case ApiErrorCode.MALFORMED_REQUEST:
    case ApiErrorCode.INVALID_PLUGIN_CONFIG:
    case ApiErrorCode.PLUGIN_NOT_ALLOWED:
      return 400;
    case ApiErrorCode.UNAUTHENTICATED:
      return 401;
    case ApiErrorCode.FORBIDDEN:
      return 403;
    case ApiErrorCode.ROUTE_NOT_FOUND:
    case ApiErrorCode.TENANT_NOT_FOUND:
    case ApiErrorCode.API_KEY_NOT_FOUND:
    case ApiErrorCode.OAUTH_CLIENT_NOT_FOUND:
    case ApiErrorCode.OAUTH_GRANT_NOT_FOUND:
    case ApiErrorCode.SESSION_NOT_FOUND:
    case ApiErrorCode.PLUGIN_NOT_FOUND:
    case ApiErrorCode.PLUGIN_NOT_INSTALLED:
    case ApiErrorCode.VIRTUAL_SERVER_NOT_FOUND:
    case ApiErrorCode.TEMPLATE_NOT_FOUND:
    case ApiErrorCode.USAGE_JOB_NOT_FOUND:
      return 404;
    case ApiErrorCode.SLUG_TAKEN:
    case ApiErrorCode.API_KEY_NOT_ACTIVE:
    case ApiErrorCode.TEMPLATE_NAME_TAKEN:
    case ApiErrorCode.TEMPLATE_IN_USE:
    case ApiErrorCode.INSTALLATION_NAME_TAKEN:
    case ApiErrorCode.VIRTUAL_SERVER_NAME_TAKEN:
      return 409;
    case ApiErrorCode.PAYLOAD_TOO_LARGE:
      return 413;
    case ApiErrorCode.UNSUPPORTED_MEDIA_TYPE:
      return 415;
    case ApiErrorCode.NOT_READY:
    case ApiErrorCode.DATABASE_UNAVAILABLE:
      return 503;
    case ApiErrorCode.INTERNAL:
      return 500;
    default:
      return assertNever(code);
  }
}

/**
 * Seconds a client should wait before retrying (the Retry-After header), for errors a retry can
 * cure. A database failover or restart usually takes seconds, not minutes.
 */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

export function retryAfterOf(code: ApiErrorCode): number | undefined {
  return code === ApiErrorCode.DATABASE_UNAVAILABLE ? DATABASE_RETRY_AFTER_SECONDS : undefined;
}

function defaultMessage(code: ApiErrorCode): string {
  switch (code) {
    case ApiErrorCode.VALIDATION_FAILED:
      return 'The request is invalid.';
    case ApiErrorCode.MALFORMED_REQUEST:
      return 'The request body is not valid JSON.';
    case ApiErrorCode.UNSUPPORTED_MEDIA_TYPE:
      return 'Send the body as application/json.';
    case ApiErrorCode.PAYLOAD_TOO_LARGE:
      return 'The request body is too large.';
    case ApiErrorCode.UNAUTHENTICATED:
      return 'A valid bearer token is required.';
    case ApiErrorCode.FORBIDDEN:
      return 'This token may not do that.';
    case ApiErrorCode.ROUTE_NOT_FOUND:
      return 'No such route.';
    case ApiErrorCode.TENANT_NOT_FOUND:
      return 'Tenant not found.';
    case ApiErrorCode.API_KEY_NOT_FOUND:
      return 'API key not found.';
    case ApiErrorCode.OAUTH_CLIENT_NOT_FOUND:
      return 'No OAuth client with that id is registered for, or has grants on, this tenant.';
    case ApiErrorCode.OAUTH_GRANT_NOT_FOUND:
      return 'No OAuth grant with that id on this tenant.';
    case ApiErrorCode.SESSION_NOT_FOUND:
      return 'No live session with that id for this tenant.';
    case ApiErrorCode.PLUGIN_NOT_FOUND:
      return 'No plugin with that name is installed on this platform.';
    case ApiErrorCode.PLUGIN_NOT_INSTALLED:
      return 'The plugin is not installed for this tenant.';
    case ApiErrorCode.INVALID_PLUGIN_CONFIG:
      return "The configuration does not match the plugin's schema.";
    case ApiErrorCode.SLUG_TAKEN:
      return 'A tenant with that slug already exists.';
    case ApiErrorCode.TEMPLATE_NOT_FOUND:
      return 'No server template with that name.';
    case ApiErrorCode.USAGE_JOB_NOT_FOUND:
      return 'No failed usage job with that id.';
    case ApiErrorCode.TEMPLATE_NAME_TAKEN:
      return 'A server template or plugin with that name already exists.';
    case ApiErrorCode.TEMPLATE_IN_USE:
      return 'Tenants still have this server template installed; uninstall it first.';
    case ApiErrorCode.API_KEY_NOT_ACTIVE:
      return 'The API key is revoked or expired.';
    case ApiErrorCode.PLUGIN_NOT_ALLOWED:
      return 'A requested plugin is not allowed for this key.';
    case ApiErrorCode.INSTALLATION_NAME_TAKEN:
      return 'The tenant already has an installation of that name, of another plugin.';
    case ApiErrorCode.VIRTUAL_SERVER_NOT_FOUND:
      return 'The tenant has no virtual server of that name.';
    case ApiErrorCode.VIRTUAL_SERVER_NAME_TAKEN:
      return 'The tenant already has a virtual server of that name.';
    case ApiErrorCode.NOT_READY:
      return 'The service is not ready.';
    case ApiErrorCode.DATABASE_UNAVAILABLE:
      return 'The database is unavailable; retry shortly.';
    case ApiErrorCode.INTERNAL:
      return 'Internal error.';
    default:
      return assertNever(code);
  }
}

function assertNever(value: never): never {
  throw new Error(`unhandled error code ${String(value)}`);
}
