import { Controller, Get, Header, Headers, HttpCode, Inject, Post, Query, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Access, Authenticated } from '../auth/access.decorator';
import { ApiError, ApiErrorCode } from '../common/api-error';
import { ZodBody } from '../common/zod-request.decorators';
import { OIDC_ROUND_TRIP_TTL_MS } from './oidc-state-seal';
import { signInProblemPage } from './console-oidc-pages';
import { redeemHandoverSchema, type RedeemHandoverInput } from './console-oidc.schemas';
import { ConsoleOidcService, type ConsoleOidcSettings } from './console-oidc.service';
import type { ConsoleOidcSignIn } from './console-oidc-sign-in';
import { CONSOLE_CSP } from './console-static';

const cookieName = (secure: boolean) => (secure ? '__Secure-sb_console_oidc' : 'sb_console_oidc');

/**
 * The console's OpenID Connect sign-in (docs/console.md). Outside /v1, which is bearer-only and
 * authenticated before the body is read: these routes are how a person without a token gets one.
 */
@ApiExcludeController()
@Controller('console/oidc')
@Authenticated(Access.Public)
export class ConsoleOidcController {
  constructor(@Inject(ConsoleOidcService) private readonly oidc: ConsoleOidcService) {}

  /** Whether the sign-in page offers "Sign in with <provider>". */
  @Get()
  @Header('cache-control', 'no-store')
  settings(): ConsoleOidcSettings {
    return this.oidc.settings();
  }

  /** To the provider, with the state bound to a fresh cookie of this browser. */
  @Get('start')
  async start(@Res() reply: FastifyReply): Promise<void> {
    const started = await this.signIn().start();
    if (!started.ok) return this.problem(reply, started.status, started.message);
    // SameSite=Lax, not Strict: the provider's redirect back is a cross-site navigation, which carries Lax cookies only.
    const cookie = this.cookie(started.binding, OIDC_ROUND_TRIP_TTL_MS / 1000);
    await reply.code(302).headers({ location: started.location, 'set-cookie': cookie, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).send();
  }

  /** Back from the provider: into the console with a handover code in the fragment, or a page saying why not. */
  @Get('callback')
  async callback(@Query() query: unknown, @Headers('cookie') cookies: string | undefined, @Res() reply: FastifyReply): Promise<void> {
    const completed = await this.signIn().complete(query, cookieOf(cookies, cookieName(this.oidc.secureCookies())));
    // The round trip's cookie is spent either way.
    reply.header('set-cookie', this.cookie('', 0));
    if (!completed.ok) return this.problem(reply, completed.status, completed.message);
    // The fragment never reaches a server or a Referer; the console removes it from the address bar.
    await reply.code(303).headers({ location: `${this.oidc.consoleHome()}#/signed-in/${completed.handoverCode}`, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' }).send();
  }

  /** The console trades the handover code for its admin token, once. */
  @Post('redeem')
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  async redeem(@ZodBody(redeemHandoverSchema) body: RedeemHandoverInput): Promise<{ token: string }> {
    const token = await this.signIn().redeem(body.code);
    if (!token) throw new ApiError(ApiErrorCode.UNAUTHENTICATED, 'This sign-in code is unknown, expired or already used. Sign in again.');
    return { token };
  }

  private signIn(): ConsoleOidcSignIn {
    if (!this.oidc.signIn) throw new ApiError(ApiErrorCode.ROUTE_NOT_FOUND, 'Sign-in through OpenID Connect is not configured (CONSOLE_OIDC_ISSUER).');
    return this.oidc.signIn;
  }

  private cookie(value: string, maxAgeSeconds: number): string {
    const secure = this.oidc.secureCookies();
    return [`${cookieName(secure)}=${value}`, `Path=${this.oidc.cookiePath()}`, 'HttpOnly', 'SameSite=Lax', `Max-Age=${maxAgeSeconds}`, ...(secure ? ['Secure'] : [])].join('; ');
  }

  private async problem(reply: FastifyReply, status: 400 | 403 | 502, message: string): Promise<void> {
    await reply
      .code(status)
      .headers({ 'content-type': 'text/html; charset=utf-8', 'content-security-policy': CONSOLE_CSP, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' })
      .send(signInProblemPage(status, message, this.oidc.consoleHome()));
  }
}

/** One cookie's value from a Cookie header (RFC 6265 §5.4 syntax); undefined when absent. */
function cookieOf(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}
