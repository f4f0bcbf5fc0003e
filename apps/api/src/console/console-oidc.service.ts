import type { OnModuleDestroy } from '@nestjs/common';
import { Redis } from 'ioredis';
import type { Clock } from '@switchboard/api-keys';
import type { Logger } from '@switchboard/logger';
import { OidcProviders } from '@switchboard/oidc-client';
import { outboundNetwork } from '@switchboard/plugin-net';
import type { PlatformSecrets } from '@switchboard/secrets';
import { mintAdminToken } from '../auth/admin-jwt';
import { adminSecret } from '../auth/auth.module';
import { CONSOLE_OIDC_CALLBACK_SUFFIX, type ApiConfig, type ConsoleOidcConfig } from '../config/api-config';
import { CONSOLE_PATH } from './console-static';
import { ConsoleOidcSignIn } from './console-oidc-sign-in';
import { HandoverCodes, InMemoryHandoverStore, RedisHandoverStore, type HandoverStore } from './handover-codes';
import { OidcStateSeal } from './oidc-state-seal';

/** The console session an OIDC sign-in yields: an hour (or less when ADMIN_TOKEN_MAX_TTL_SECONDS says so), then sign in again. */
export const CONSOLE_OIDC_TOKEN_TTL_SECONDS = 3600;
export const CONSOLE_OIDC_START_PATH = `${CONSOLE_PATH}/oidc/start`;

/** What GET /console/oidc tells the sign-in page. */
export type ConsoleOidcSettings = { enabled: false } | { enabled: true; provider: string; startUrl: string };

/**
 * The console's OpenID Connect sign-in as the controller sees it: built from the config (absent
 * when CONSOLE_OIDC_* is not set), with what it opens (a Redis connection in cluster mode, the
 * provider's connection pool) closed with the module.
 */
export class ConsoleOidcService implements OnModuleDestroy {
  constructor(
    readonly signIn: ConsoleOidcSignIn | undefined,
    private readonly config: ConsoleOidcConfig | undefined,
    private readonly closers: (() => Promise<void>)[],
  ) {}

  static build(config: ApiConfig, secrets: PlatformSecrets, clock: Clock, logger: Logger): ConsoleOidcService {
    const oidc = config.console.oidc;
    const secret = adminSecret(config, secrets);
    // The config loader refuses CONSOLE_OIDC_* with ADMIN_JWKS_URL, so a missing secret here is a wiring bug.
    if (!oidc || config.adminAuth.mode !== 'secret') return new ConsoleOidcService(undefined, undefined, []);
    if (!secret) throw new Error('console OIDC sign-in needs the admin JWT secret');
    const providers = OidcProviders.over(outboundNetwork({ allow: oidc.allowCidrs }));
    // Cluster mode: the callback and the redeem may reach different API instances.
    const store: HandoverStore = config.redis
      ? new RedisHandoverStore(new Redis(config.redis.url, { connectionName: `${config.nodeId}:console-oidc`, maxRetriesPerRequest: 1, lazyConnect: true }), config.redis.prefix)
      : new InMemoryHandoverStore(clock);
    const handovers = new HandoverCodes(store, clock);
    const { issuer, audience, maxTokenTtlSeconds } = config.adminAuth;
    const mint = (subject: string) => mintAdminToken({ secret, issuer, audience, subject, ttlSeconds: Math.min(CONSOLE_OIDC_TOKEN_TTL_SECONDS, maxTokenTtlSeconds) });
    const signIn = new ConsoleOidcSignIn(oidc, providers, new OidcStateSeal(secrets.secretsKeys, clock), handovers, mint, clock, logger);
    return new ConsoleOidcService(signIn, oidc, [() => providers.close(), () => handovers.close()]);
  }

  settings(): ConsoleOidcSettings {
    return this.config ? { enabled: true, provider: this.config.providerName, startUrl: CONSOLE_OIDC_START_PATH } : { enabled: false };
  }

  /** The console's address as the provider's redirect reaches us (behind a proxy, not necessarily `/console/`). */
  consoleHome(): string {
    return this.config ? `${this.config.redirectUri.slice(0, -CONSOLE_OIDC_CALLBACK_SUFFIX.length)}${CONSOLE_PATH}/` : `${CONSOLE_PATH}/`;
  }

  /** Where the round trip's cookie is sent: the callback's folder as the browser sees it (`/console/oidc`, or under a proxy's prefix). */
  cookiePath(): string {
    return this.config ? new URL(this.config.redirectUri).pathname.replace(/\/callback$/, '') : `${CONSOLE_PATH}/oidc`;
  }

  /** The round trip's cookie is `Secure` (and `__Secure-`) whenever the console is served over https. */
  secureCookies(): boolean {
    return this.config?.redirectUri.startsWith('https:') ?? false;
  }

  async onModuleDestroy(): Promise<void> {
    for (const close of this.closers) await close().catch(() => undefined);
  }
}
