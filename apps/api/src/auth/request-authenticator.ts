import type { FastifyInstance } from 'fastify';
import { API_KEY_PREFIX, ApiKeyResolver, type Principal } from '@switchboard/api-keys';
import type { Logger } from '@switchboard/logger';
import { ApiError, ApiErrorCode } from '../common/api-error';
import type { ApiExceptionFilter } from '../common/api-exception.filter';
import type { AdminPrincipal } from './admin-principal';
import { AdminJwtVerifier } from './admin-jwt';
import { bearerToken } from './bearer-token';

/** Who sent a request: an admin (JWT) or a tenant's API key. */
export type Credential = { kind: 'admin'; admin: AdminPrincipal } | { kind: 'api-key'; caller: Principal };

type Headers = Record<string, string | string[] | undefined>;

/** Every admin route lives under /v1; health probes and the API description do not. */
const AUTHENTICATED_PREFIX = '/v1/';

/**
 * Reads the bearer credential of a request: an `sbk_…` token is an API key, anything else must
 * be an admin JWT. Which kind a route takes is the guard's decision; this only says who it is.
 */
export class RequestAuthenticator {
  constructor(
    private readonly adminJwt: AdminJwtVerifier,
    private readonly apiKeys: ApiKeyResolver,
    private readonly logger: Logger,
  ) {}

  /** The credential, or the 401 to answer with. Throws when a dependency fails (API keys live in the database). */
  async authenticate(headers: Headers): Promise<Credential | ApiError> {
    const token = bearerToken(headers['authorization']);
    if (!token) return new ApiError(ApiErrorCode.UNAUTHENTICATED, 'Send Authorization: Bearer <admin JWT>, or Bearer sbk_… (an API key) for /v1/tokens.');
    if (token.startsWith(`${API_KEY_PREFIX}_`)) {
      const result = await this.apiKeys.resolve(token);
      // The reason helps the key's holder (expired? revoked?) and tells a guesser nothing:
      // a wrong secret is always just "unknown".
      return result.ok ? { kind: 'api-key', caller: result.principal } : new ApiError(ApiErrorCode.UNAUTHENTICATED, 'The API key is not valid.', { reason: result.reason });
    }
    const admin = await this.adminJwt.authenticate({ headers }).catch((error: unknown) => {
      this.logger.warn({ err: error }, 'admin token verification failed');
      return null;
    });
    return admin ? { kind: 'admin', admin } : new ApiError(ApiErrorCode.UNAUTHENTICATED, 'A valid admin bearer token is required.');
  }
}

/** What authenticateBeforeBody leaves on the request for AuthGuard. */
export interface EarlyAuthentication {
  credential?: Credential;
}

/**
 * Authenticates /v1 requests in Fastify's onRequest hook, before the body is read: Nest's guards
 * run after body parsing, so without this anyone could make the API receive and parse up to
 * MAX_BODY_BYTES (or hold a socket open while trickling it). A refusal closes the connection so
 * that the unread body is not read either. AuthGuard then applies each route's access rule.
 */
export function authenticateBeforeBody(fastify: FastifyInstance, authenticator: RequestAuthenticator, errors: ApiExceptionFilter): void {
  fastify.addHook('onRequest', async (request, reply) => {
    if (!request.routeOptions.url?.startsWith(AUTHENTICATED_PREFIX)) return;
    let credential: Credential | ApiError;
    try {
      credential = await authenticator.authenticate(request.headers);
    } catch (error) {
      return errors.reply(reply, error);
    }
    if (credential instanceof ApiError) return errors.reply(reply.header('connection', 'close'), credential);
    (request as EarlyAuthentication).credential = credential;
  });
}
