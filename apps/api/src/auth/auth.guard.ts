import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiKeyResolver } from '@switchboard/api-keys';
import type { Logger } from '@switchboard/logger';
import { LOGGER } from '../common/api-context';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { ACCESS_METADATA, Access, type AuthenticatedRequest } from './access.decorator';
import { AdminJwtVerifier } from './admin-jwt';

const BEARER_PREFIX = /^Bearer\s+/i;

/** Enforces each route's @Authenticated(...) declaration; a route without one is platform-admin only. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly adminJwt: AdminJwtVerifier,
    private readonly apiKeys: ApiKeyResolver,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const access =
      this.reflector.getAllAndOverride<Access | undefined>(ACCESS_METADATA, [context.getHandler(), context.getClass()]) ??
      // Failing closed: a route someone forgot to annotate is as protected as it gets.
      Access.PlatformAdmin;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest & { headers: Record<string, string | undefined> }>();

    switch (access) {
      case Access.Public:
        return true;
      case Access.ApiKey:
        request.caller = await this.authenticateApiKey(request.headers.authorization);
        return true;
      case Access.PlatformAdmin:
      case Access.TenantAdmin: {
        const admin = await this.adminJwt.authenticate(request).catch((error: unknown) => {
          this.logger.warn({ err: error }, 'admin token verification failed');
          return null;
        });
        if (!admin) throw new ApiError(ApiErrorCode.UNAUTHENTICATED, 'A valid admin bearer token is required.');
        if (access === Access.PlatformAdmin && admin.kind !== 'platform-admin') {
          throw new ApiError(ApiErrorCode.FORBIDDEN, 'Only platform admins may do this.');
        }
        request.admin = admin;
        return true;
      }
    }
  }

  private async authenticateApiKey(header: string | undefined) {
    const token = header && BEARER_PREFIX.test(header) ? header.replace(BEARER_PREFIX, '').trim() : undefined;
    if (!token) throw new ApiError(ApiErrorCode.UNAUTHENTICATED, 'Send an API key as Authorization: Bearer sbk_…');
    const result = await this.apiKeys.resolve(token);
    // The reason helps the key's holder (expired? revoked?) and tells a guesser nothing:
    // a wrong secret is always just "unknown".
    if (!result.ok) throw new ApiError(ApiErrorCode.UNAUTHENTICATED, 'The API key is not valid.', { reason: result.reason });
    return result.principal;
  }
}
