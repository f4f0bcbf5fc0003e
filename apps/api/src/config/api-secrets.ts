import { loadPlatformSecrets, type PlatformSecrets } from '@switchboard/secrets';
import type { ApiConfig } from './api-config';

/** The platform secrets as the admin API needs them (server start and CLI alike). */
export function loadApiSecrets(config: ApiConfig): PlatformSecrets {
  return loadPlatformSecrets({
    adminJwtSecret: config.adminAuth.mode === 'secret' ? config.adminAuth.secret : undefined,
    // Only HS256 admin tokens need the secret; with ADMIN_JWKS_URL the identity provider signs.
    needsAdminJwtSecret: config.adminAuth.mode === 'secret',
    ...config.secrets,
    dataDir: config.database.dataDir,
  });
}
