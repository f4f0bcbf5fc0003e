import type { ApiClient } from '../api/client';
import { PageHeading } from '../components/ui';
import { AuditSection } from './audit-section';

/** The platform's audit log (platform admins): every tenant's events and the platform's own. */
export function PlatformAuditPage({ api }: { api: ApiClient }) {
  return (
    <>
      <PageHeading>Platform audit log</PageHeading>
      <AuditSection api={api} />
    </>
  );
}
