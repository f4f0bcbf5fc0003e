import { applyDecorators, createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import { ApiBearerAuth, ApiSecurity } from '@nestjs/swagger';
import type { Principal } from '@switchboard/api-keys';
import type { AdminPrincipal } from './admin-principal';

/** Who may call a route; every controller method declares one (AuthGuard fails closed). */
export enum Access {
  /** Health probes and the API description. */
  Public = 'public',
  /** `role: "admin"` JWTs only; tenant admins get 403. */
  PlatformAdmin = 'platform-admin',
  /** Platform admins, or the admin of the tenant in the path (others get 404 from the service). */
  TenantAdmin = 'tenant-admin',
  /** A tenant's API key (`Authorization: Bearer sbk_…`), not an admin JWT. */
  ApiKey = 'api-key',
}

export const ACCESS_METADATA = 'switchboard:access';
export const ADMIN_JWT_SECURITY = 'adminJwt';
export const API_KEY_SECURITY = 'apiKey';

export function Authenticated(access: Access): MethodDecorator & ClassDecorator {
  const docs =
    access === Access.Public ? [] : access === Access.ApiKey ? [ApiSecurity(API_KEY_SECURITY)] : [ApiBearerAuth(ADMIN_JWT_SECURITY)];
  return applyDecorators(SetMetadata(ACCESS_METADATA, access), ...docs);
}

/** What AuthGuard leaves on the request. */
export interface AuthenticatedRequest {
  admin?: AdminPrincipal;
  caller?: Principal;
}

/** The admin behind an `Access.PlatformAdmin` or `Access.TenantAdmin` route. */
export const CurrentAdmin = createParamDecorator((_data: unknown, ctx: ExecutionContext): AdminPrincipal => {
  const admin = ctx.switchToHttp().getRequest<AuthenticatedRequest>().admin;
  if (!admin) throw new Error('CurrentAdmin used on a route without admin authentication');
  return admin;
});

/** The API key behind an `Access.ApiKey` route. */
export const CurrentCaller = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const caller = ctx.switchToHttp().getRequest<AuthenticatedRequest>().caller;
  if (!caller) throw new Error('CurrentCaller used on a route without API key authentication');
  return caller;
});
