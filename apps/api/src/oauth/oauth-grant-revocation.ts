import { Injectable } from '@nestjs/common';
import type { Prisma } from '@switchboard/db';
import { ControlEventsPublisher } from '../common/control-events.publisher';

/** Why a grant ended (OAuthGrant.revokedReason); the gateway's authorization server adds `user` and `refresh_reuse`. */
export type GrantRevocationReason = 'admin' | 'key_revoked' | 'client_revoked';

export interface RevokedGrant {
  id: string;
  tenantId: string;
}

/**
 * Ends OAuth grants: marks them revoked and deletes their refresh tokens and codes inside the
 * caller's transaction (so a key revocation and its grants commit together), then tells every
 * gateway after the commit, so access tokens naming the grant stop within a second.
 */
@Injectable()
export class OAuthGrantRevocation {
  constructor(private readonly events: ControlEventsPublisher) {}

  async revokeWhere(tx: Prisma.TransactionClient, where: Prisma.OAuthGrantWhereInput, reason: GrantRevocationReason, at: Date): Promise<RevokedGrant[]> {
    const grants = await tx.oAuthGrant.findMany({ where: { ...where, revokedAt: null }, select: { id: true, tenantId: true } });
    if (grants.length === 0) return [];
    const ids = grants.map((grant) => grant.id);
    await tx.oAuthGrant.updateMany({ where: { id: { in: ids }, revokedAt: null }, data: { revokedAt: at, revokedReason: reason } });
    await tx.oAuthRefreshToken.deleteMany({ where: { grantId: { in: ids } } });
    await tx.oAuthCode.deleteMany({ where: { grantId: { in: ids } } });
    return grants;
  }

  /** Call after the commit. */
  async announce(grants: readonly RevokedGrant[]): Promise<void> {
    for (const grant of grants) await this.events.publish({ type: 'oauth-grant.revoked', tenantId: grant.tenantId, grantId: grant.id });
  }
}
