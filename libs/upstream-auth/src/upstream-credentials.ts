import { randomUUID } from 'node:crypto';
import type { OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { PrismaClient } from '@switchboard/db';
import { UpstreamAuthorizationError, UpstreamConnectRequiredError, type UpstreamCredentials } from '@switchboard/plugin-sdk';
import type { SecretBox } from '@switchboard/secrets';
import { CONNECT_TTL_MS, ConnectSeals, type ConnectBinding } from './connect-seals';
import { connectionKeyOf, noPersonMessage, personOf, type CallerIdentity } from './person-subject';
import { decideToken, refreshFailureIsTerminal } from './refresh-decision';
import { oauthErrorCodeOf, refreshTokens, type UpstreamClientState } from './upstream-oauth-client';

/** The shared credential's subject: one account a tenant admin connected for the whole installation. */
export const SHARED_SUBJECT = '';
/** The gateway route a connect URL names (apps/gateway/src/oauth/upstream-connect.ts). */
export const UPSTREAM_CONNECT_PATH = '/oauth/upstream/connect';
/** How long one refresh (the row lock held over the token request) may take. */
export const REFRESH_TIMEOUT_MS = 15_000;

export type CredentialStatus = 'pending' | 'connected' | 'needs_reconnect';

/** What the admin API and the console may see of a credential: never token material. */
export interface CredentialView {
  status: CredentialStatus | 'not_connected';
  connectedAt: string | null;
  /** When the current access token expires (it is refreshed before). */
  expiresAt: string | null;
  /** Why it needs reconnecting. */
  lastError: string | null;
}

/** The sealed part of a connected credential. */
interface SealedTokens extends UpstreamClientState {
  accessToken: string;
  refreshToken: string | undefined;
}

/** The sealed part of a connect under way, between the redirect and the callback. */
export interface PendingConnect extends UpstreamClientState {
  codeVerifier: string;
  redirectUri: string;
}

/** Where an accessor is bound, and the words its reconnect error uses. */
export interface CredentialTarget extends ConnectBinding {
  installation: string;
  /** The tenant as the admin API names it (id or slug), for the reconnect instructions. */
  tenantRef: string;
  /**
   * Per-user: the gateway's public origin (PUBLIC_GATEWAY_URL), under which the connect link a
   * person gets in the tool error lives; unset, the error says a link cannot be made.
   */
  connectBase?: string | undefined;
}

/** One person's credential of a per-user installation, as the tenant admin sees it. */
export interface PersonalCredentialView extends CredentialView {
  subject: string;
}

/** The full connect URL for a ticket, under the gateway's public origin. */
export function connectUrlOf(base: string, ticket: string): string {
  const url = new URL(UPSTREAM_CONNECT_PATH, new URL(base).origin);
  url.searchParams.set('ticket', ticket);
  return url.href;
}

/** What a tenant admin sees of a credential row: its state, never token material. */
function viewOf(row: { status: string; connectedAt: Date | null; expiresAt: Date | null; lastError: string | null }): CredentialView {
  return { status: row.status as CredentialStatus, connectedAt: row.connectedAt?.toISOString() ?? null, expiresAt: row.expiresAt?.toISOString() ?? null, lastError: row.lastError };
}

/** The AAD of a credential's envelopes: a sealed value copied onto another row does not open. */
const aadOf = (binding: ConnectBinding, part: 'tokens' | 'pending') => `upstream-credential/${part}/v1:${binding.tenantId}:${binding.installationId}:${binding.subject}`;
/** Only the three key fields: a binding may arrive as a wider object (a SealedConnect with its nonce). */
const keyOf = (binding: ConnectBinding) => ({ tenantId: binding.tenantId, installationId: binding.installationId, subject: binding.subject });
const whereOf = (binding: ConnectBinding) => ({ tenantId_installationId_subject: { tenantId: binding.tenantId, installationId: binding.installationId, subject: binding.subject } });

/**
 * The platform's upstream OAuth credentials in Postgres (model UpstreamCredential), tokens sealed
 * with SECRETS_KEY. Used by the admin API (start a connect, show the status) and the gateway
 * (finish a connect, hand plugins a current access token, refresh it).
 *
 * Refresh across nodes: the authorization server may rotate refresh tokens and revoke the whole
 * grant when one is used twice (ours does), so two nodes must never refresh the same credential
 * at once. A refresh runs in a transaction holding the row's lock (`SELECT … FOR UPDATE`); a node
 * that waited for the lock reads the row again and uses the token the other node just stored.
 * Within one node, concurrent calls share one refresh (single flight).
 */
export class UpstreamCredentialStore {
  private readonly refreshing = new Map<string, Promise<string>>();

  constructor(
    private readonly prisma: PrismaClient,
    private readonly box: SecretBox,
    private readonly seals: ConnectSeals,
    private readonly options: { fetch?: FetchLike; now?: () => number } = {},
  ) {}

  // ---- Admin API ------------------------------------------------------------------------------

  /**
   * Starts a connect: a fresh nonce on the row (any earlier connect under way can no longer
   * complete), and the sealed ticket the gateway's connect URL takes. A connected credential keeps
   * working until the new connect completes.
   */
  async prepareConnect(binding: ConnectBinding): Promise<{ ticket: string; expiresAt: Date }> {
    const nonce = ConnectSeals.random();
    const pendingNonce = ConnectSeals.nonceHash(nonce);
    await this.prisma.upstreamCredential.upsert({
      where: whereOf(binding),
      create: { ...keyOf(binding), status: 'pending', pendingNonce },
      update: { pendingNonce, pendingSealed: null },
    });
    return { ticket: this.seals.sealTicket({ ...binding, nonce }), expiresAt: new Date(this.now() + CONNECT_TTL_MS) };
  }

  /**
   * A person's connect for a per-user installation, made when their call finds no usable
   * credential. A connect of theirs already at the upstream's consent page (the state is out,
   * the verifier stored) is left to finish: a client retrying the call must not void the link
   * the person is following. Undefined then.
   */
  async preparePersonalConnect(binding: ConnectBinding): Promise<{ ticket: string; expiresAt: Date } | undefined> {
    const row = await this.prisma.upstreamCredential.findUnique({ where: whereOf(binding), select: { pendingSealed: true, updatedAt: true } });
    if (row?.pendingSealed && this.now() - row.updatedAt.getTime() < CONNECT_TTL_MS) return undefined;
    return this.prepareConnect(binding);
  }

  async view(binding: ConnectBinding): Promise<CredentialView> {
    const row = await this.prisma.upstreamCredential.findUnique({ where: whereOf(binding) });
    return row ? viewOf(row) : { status: 'not_connected', connectedAt: null, expiresAt: null, lastError: null };
  }

  /** Every person's credential of a per-user installation (never token material), for its tenant admin. */
  async listPersonal(tenantId: string, installationId: string): Promise<PersonalCredentialView[]> {
    const rows = await this.prisma.upstreamCredential.findMany({
      where: { tenantId, installationId, NOT: { subject: SHARED_SUBJECT } },
      select: { subject: true, status: true, connectedAt: true, expiresAt: true, lastError: true },
      orderBy: { subject: 'asc' },
    });
    return rows.map((row) => ({ subject: row.subject, ...viewOf(row) }));
  }

  /** Forgets the credential (the upstream's grant itself stays until it expires or its owner revokes it). */
  async disconnect(binding: ConnectBinding): Promise<boolean> {
    return (await this.prisma.upstreamCredential.deleteMany({ where: keyOf(binding) })).count > 0;
  }

  // ---- Gateway: the connect round trip ---------------------------------------------------------

  /**
   * Spends the ticket's nonce, before any outbound request: a used or replaced ticket makes the
   * gateway fetch nothing. The row then waits for the state's nonce. False when the ticket was
   * used already or a newer connect replaced it.
   */
  async spendTicket(binding: ConnectBinding, ticketNonce: string, stateNonce: string): Promise<boolean> {
    const won = await this.prisma.upstreamCredential.updateMany({
      where: { ...keyOf(binding), pendingNonce: ConnectSeals.nonceHash(ticketNonce) },
      data: { pendingNonce: ConnectSeals.nonceHash(stateNonce), pendingSealed: null },
    });
    return won.count === 1;
  }

  /** Whether a ticket could still be spent (not used, not replaced), without spending it: a person's link shows its sign-in form only then. */
  async ticketLive(binding: ConnectBinding, ticketNonce: string): Promise<boolean> {
    return (await this.prisma.upstreamCredential.count({ where: { ...keyOf(binding), pendingNonce: ConnectSeals.nonceHash(ticketNonce) } })) === 1;
  }

  /** Records the authorization request under way (PKCE verifier, client, server); false when a newer connect replaced it meanwhile. */
  async savePending(binding: ConnectBinding, stateNonce: string, pending: PendingConnect): Promise<boolean> {
    const won = await this.prisma.upstreamCredential.updateMany({
      where: { ...keyOf(binding), pendingNonce: ConnectSeals.nonceHash(stateNonce) },
      data: { pendingSealed: this.box.encrypt({ ...pending }, aadOf(binding, 'pending')) },
    });
    return won.count === 1;
  }

  /** The authorization request the callback answers, taken once: a replayed state finds nothing. */
  async takePending(binding: ConnectBinding, stateNonce: string): Promise<PendingConnect | undefined> {
    const pendingNonce = ConnectSeals.nonceHash(stateNonce);
    const row = await this.prisma.upstreamCredential.findFirst({ where: { ...keyOf(binding), pendingNonce }, select: { id: true, pendingSealed: true } });
    if (!row?.pendingSealed) return undefined;
    const won = await this.prisma.upstreamCredential.updateMany({ where: { id: row.id, pendingNonce }, data: { pendingNonce: null, pendingSealed: null } });
    if (won.count !== 1) return undefined;
    return this.box.decrypt(row.pendingSealed, aadOf(binding, 'pending')) as unknown as PendingConnect;
  }

  async saveConnected(binding: ConnectBinding, state: UpstreamClientState, tokens: OAuthTokens): Promise<void> {
    const now = new Date(this.now());
    await this.prisma.upstreamCredential.update({
      where: whereOf(binding),
      data: { status: 'connected', ...this.sealedTokens(binding, state, tokens), lastError: null, connectedAt: now },
    });
  }

  // ---- Gateway: tokens for plugins -------------------------------------------------------------

  /** The accessor a plugin gets on its context, bound to one tenant, installation and subject. */
  accessorFor(target: CredentialTarget): UpstreamCredentials {
    return { connectionKey: connectionKeyOf(target.subject), accessToken: (options) => this.accessToken(target, options?.rejected) };
  }

  /**
   * A per-user installation's accessor for one call, bound to the calling person: the gateway
   * passes the principal it authenticated (`caller`), so neither the plugin nor the tool's
   * arguments can choose whose account is used. A caller with no person (an API key, a tenant
   * token) gets an accessor that only refuses: never another person's account, never the shared one.
   */
  personalAccessorFor(target: Omit<CredentialTarget, 'subject'>, caller: CallerIdentity): UpstreamCredentials {
    const person = personOf(caller);
    if (!person.ok) {
      const refusal = new UpstreamAuthorizationError(noPersonMessage(target.installation, person.reason));
      return { connectionKey: 'refused', accessToken: () => Promise.reject(refusal) };
    }
    return this.accessorFor({ ...target, subject: person.subject });
  }

  async accessToken(target: CredentialTarget, rejected?: string): Promise<string> {
    const row = await this.prisma.upstreamCredential.findUnique({ where: whereOf(target), select: { status: true, sealed: true, expiresAt: true, lastError: true } });
    if (!row || row.status !== 'connected' || !row.sealed) throw await this.unusable(target, row?.status === 'needs_reconnect' ? row.lastError : null);
    const stored = this.box.decrypt(row.sealed, aadOf(target, 'tokens')) as unknown as SealedTokens;
    if (decideToken({ accessToken: stored.accessToken, expiresAt: row.expiresAt?.getTime() }, this.now(), rejected) === 'use') return stored.accessToken;
    const key = JSON.stringify([target.tenantId, target.installationId, target.subject]);
    const running = this.refreshing.get(key);
    if (running) return running;
    const refresh = this.refreshUnderLock(target, rejected).finally(() => this.refreshing.delete(key));
    this.refreshing.set(key, refresh);
    return refresh;
  }

  /** One refresh, holding the row's lock so no other node refreshes the same credential meanwhile. */
  private async refreshUnderLock(target: CredentialTarget, rejected: string | undefined): Promise<string> {
    const outcome = await this.prisma.$transaction(
      async (tx) => {
        const rows = await tx.$queryRaw<{ status: string; sealed: string | null; expires_at: Date | null }[]>`
          SELECT status, sealed, expires_at FROM upstream_credentials
          WHERE tenant_id = ${target.tenantId}::uuid AND installation_id = ${target.installationId}::uuid AND subject = ${target.subject}
          FOR UPDATE`;
        const row = rows[0];
        if (!row || row.status !== 'connected' || !row.sealed) return { ok: false as const, reason: null };
        const stored = this.box.decrypt(row.sealed, aadOf(target, 'tokens')) as unknown as SealedTokens;
        // Another node (or request) refreshed while this one waited for the lock: its token serves.
        if (decideToken({ accessToken: stored.accessToken, expiresAt: row.expires_at?.getTime() }, this.now(), rejected) === 'use') return { ok: true as const, token: stored.accessToken };
        if (!stored.refreshToken) return this.markNeedsReconnect(tx, target, 'the upstream gave no refresh token and the access token expired');
        let tokens: OAuthTokens;
        try {
          tokens = await refreshTokens(stored, stored.refreshToken, this.options.fetch ?? fetch);
        } catch (error) {
          const code = oauthErrorCodeOf(error);
          if (refreshFailureIsTerminal(code)) return this.markNeedsReconnect(tx, target, `the upstream refused the refresh (${code})`);
          // Transient (network, 5xx): the credential stays; this call fails, the next one tries again.
          return { ok: false as const, transient: `refreshing the upstream token failed: ${error instanceof Error ? error.message : String(error)}` };
        }
        await tx.upstreamCredential.update({ where: whereOf(target), data: this.sealedTokens(target, stored, tokens) });
        return { ok: true as const, token: tokens.access_token };
      },
      { timeout: REFRESH_TIMEOUT_MS, maxWait: REFRESH_TIMEOUT_MS },
    );
    if (outcome.ok) return outcome.token;
    if ('transient' in outcome && outcome.transient) throw new Error(outcome.transient);
    throw await this.unusable(target, 'reason' in outcome ? (outcome.reason ?? null) : null);
  }

  /** Marks the credential unusable and records why, in the refresh's transaction. */
  private async markNeedsReconnect(
    tx: Parameters<Parameters<PrismaClient['$transaction']>[0]>[0],
    target: CredentialTarget,
    reason: string,
  ): Promise<{ ok: false; reason: string }> {
    await tx.upstreamCredential.update({ where: whereOf(target), data: { status: 'needs_reconnect', sealed: null, expiresAt: null, lastError: reason } });
    await tx.auditEvent.create({
      data: {
        actor: 'gateway',
        action: 'upstream-credential.refresh-failed',
        targetType: 'plugin',
        targetId: target.installationId,
        tenantId: target.tenantId,
        // A per-user credential names its person, so the tenant admin knows who must reconnect.
        details: { installation: target.installation, subject: target.subject === SHARED_SUBJECT ? 'shared' : 'user', ...(target.subject === SHARED_SUBJECT ? {} : { person: target.subject }), reason },
      },
    });
    return { ok: false, reason };
  }

  private sealedTokens(binding: ConnectBinding, state: UpstreamClientState, tokens: OAuthTokens): { sealed: string; expiresAt: Date | null } {
    const sealed: SealedTokens = { server: state.server, client: state.client, accessToken: tokens.access_token, refreshToken: tokens.refresh_token };
    const expiresAt = tokens.expires_in !== undefined ? new Date(this.now() + tokens.expires_in * 1000) : null;
    return { sealed: this.box.encrypt({ ...sealed }, aadOf(binding, 'tokens')), expiresAt };
  }

  /** Why no token: the admin's reconnect instructions (shared), or the person's own connect link (per-user). */
  private async unusable(target: CredentialTarget, reason: string | null): Promise<UpstreamAuthorizationError> {
    return target.subject === SHARED_SUBJECT ? this.reconnectError(target, reason) : this.connectLinkError(target, reason);
  }

  /**
   * The tool error a person gets while their account is not usable: a fresh single-use connect
   * link, sealed for this tenant, installation and person (the connect page signs the opener in
   * and refuses anyone else; it never carries a token).
   */
  private async connectLinkError(target: CredentialTarget, reason: string | null): Promise<UpstreamAuthorizationError> {
    const why = reason ? `needs reconnecting (${reason})` : 'is not connected yet';
    const lead = `Your upstream account for installation "${target.installation}" ${why}.`;
    if (!target.connectBase) return new UpstreamAuthorizationError(`${lead} This gateway has no public URL (PUBLIC_GATEWAY_URL), so it cannot give you a connect link; ask the operator.`);
    const prepared = await this.preparePersonalConnect(target);
    if (!prepared) return new UpstreamAuthorizationError(`${lead} A connect you started is waiting at the upstream's sign-in page: finish it in that browser, then call the tool again.`);
    const connectUrl = connectUrlOf(target.connectBase, prepared.ticket);
    return new UpstreamConnectRequiredError(
      `${lead} Open this link in your browser within ${Math.round(CONNECT_TTL_MS / 60_000)} minutes, sign in as yourself, and approve at the upstream: ` +
        `${connectUrl} — then call the tool again. The link works once, only for you.`,
      connectUrl,
      randomUUID(),
    );
  }

  private reconnectError(target: CredentialTarget, reason: string | null): UpstreamAuthorizationError {
    const why = reason ? `needs reconnecting (${reason})` : 'is not connected';
    return new UpstreamAuthorizationError(
      `The upstream account of installation "${target.installation}" ${why}. A tenant admin connects it in the console (Plugins → ${target.installation} → Connect upstream) ` +
        `or with POST /v1/tenants/${target.tenantRef}/plugins/${target.installation}/upstream-connection and opens the connectUrl it returns.`,
    );
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
