import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { ACCESS_METADATA, Access, type AuthenticatedRequest } from './access.decorator';
import { RequestAuthenticator, type EarlyAuthentication } from './request-authenticator';

/** Enforces each route's @Authenticated(...) declaration; a route without one is platform-admin only. */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: RequestAuthenticator,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const access =
      this.reflector.getAllAndOverride<Access | undefined>(ACCESS_METADATA, [context.getHandler(), context.getClass()]) ??
      // Failing closed: a route someone forgot to annotate is as protected as it gets.
      Access.PlatformAdmin;
    if (access === Access.Public) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest & EarlyAuthentication & { headers: Record<string, string | undefined> }>();
    // Usually found by authenticateBeforeBody already; a route outside /v1 is authenticated here.
    const credential = request.credential ?? (await this.authenticator.authenticate(request.headers));
    if (credential instanceof ApiError) throw credential;

    if (access === Access.ApiKey) {
      if (credential.kind !== 'api-key') throw new ApiError(ApiErrorCode.UNAUTHENTICATED, 'Send an API key as Authorization: Bearer sbk_…');
      request.caller = credential.caller;
      return true;
    }
    if (credential.kind !== 'admin') throw new ApiError(ApiErrorCode.UNAUTHENTICATED, 'A valid admin bearer token is required.');
    if (access === Access.PlatformAdmin && credential.admin.kind !== 'platform-admin') {
      throw new ApiError(ApiErrorCode.FORBIDDEN, 'Only platform admins may do this.');
    }
    request.admin = credential.admin;
    return true;
  }
}
