import { useEffect, useState } from 'react';
import { ApiFailure, createApiClient, type ApiClient } from './api/client';
import { useHashRoute, navigate } from './lib/hash-route';
import type { TokenScope } from './lib/token-scope';
import { PageHeading } from './components/ui';
import type { PlatformPage } from './lib/hash-route';
import { NodesPage } from './pages/nodes-page';
import { PlatformAuditPage } from './pages/platform-audit-page';
import { PlatformSessionsPage } from './pages/platform-sessions-page';
import { ServerTemplatesPage } from './pages/server-templates-page';
import { UsageJobsPage } from './pages/usage-jobs-page';
import { SignInPage } from './pages/sign-in-page';
import { TenantPage } from './pages/tenant-page';
import { TenantsPage } from './pages/tenants-page';

export interface Session {
  api: ApiClient;
  scope: TokenScope;
}

export const SESSION_ENDED_MESSAGE = 'Your session ended: the admin API no longer accepts the token (it may have expired). Paste a new one.';

/**
 * The token lives in this component's state only: never in storage or a URL, so a reload or
 * sign-out forgets it. Any 401 from the API ends the session and returns to sign-in.
 */
export function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [notice, setNotice] = useState<string | undefined>();
  const route = useHashRoute();

  useEffect(() => {
    // A tenant admin's home is its tenant; platform pages show "not found" (the API refuses them too).
    if (session?.scope.kind === 'tenant' && route.name === 'tenants') navigate(`/tenants/${session.scope.tenantId}`);
  }, [session, route]);

  if (!session) {
    return (
      <SignInPage
        notice={notice}
        onSignedIn={(token, scope) => {
          setNotice(undefined);
          const api = createApiClient({
            token,
            onUnauthorized: () => {
              setSession(null);
              setNotice(SESSION_ENDED_MESSAGE);
            },
          });
          setSession({ api, scope });
        }}
      />
    );
  }

  const signOut = () => {
    setSession(null);
    setNotice('Signed out. The token is forgotten.');
  };

  return (
    <>
      <a className="skip-link" href="#main" onClick={(event) => {
        event.preventDefault();
        document.getElementById('main')?.focus();
      }}>
        Skip to content
      </a>
      <header className="top">
        <span className="brand">Switchboard</span>
        <nav aria-label="Main">
          {session.scope.kind === 'platform' ? (
            <>
              <a href="#/" aria-current={route.name === 'tenants' ? 'page' : undefined}>
                Tenants
              </a>
              {PLATFORM_NAV.map(([page, label]) => (
                <a key={page} href={`#/${page}`} aria-current={route.name === 'platform' && route.page === page ? 'page' : undefined}>
                  {label}
                </a>
              ))}
            </>
          ) : (
            <a href={`#/tenants/${session.scope.tenantId}`}>My tenant</a>
          )}
        </nav>
        <span className="who">{session.scope.kind === 'platform' ? 'Platform admin' : 'Tenant admin'}</span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {route.name === 'tenant' ? (
          <TenantPage key={route.tenant} api={session.api} tenantRef={route.tenant} view={route.view} scope={session.scope} />
        ) : session.scope.kind !== 'platform' ? (
          route.name === 'tenants' ? null : <NotFoundPage home={`#/tenants/${session.scope.tenantId}`} />
        ) : route.name === 'platform' ? (
          <PlatformPageView key={`${route.page}/${route.node ?? ''}`} api={session.api} page={route.page} node={route.node} />
        ) : route.name === 'not-found' ? (
          <NotFoundPage home="#/" />
        ) : (
          <TenantsPage api={session.api} />
        )}
      </main>
    </>
  );
}

const PLATFORM_NAV: [PlatformPage, string][] = [
  ['sessions', 'Live sessions'],
  ['nodes', 'Cluster nodes'],
  ['usage-jobs', 'Usage jobs'],
  ['templates', 'Server templates'],
  ['audit', 'Platform audit log'],
];

function PlatformPageView({ api, page, node }: { api: ApiClient; page: PlatformPage; node?: string }) {
  switch (page) {
    case 'audit':
      return <PlatformAuditPage api={api} />;
    case 'sessions':
      return <PlatformSessionsPage api={api} node={node} />;
    case 'nodes':
      return <NodesPage api={api} />;
    case 'usage-jobs':
      return <UsageJobsPage api={api} />;
    case 'templates':
      return <ServerTemplatesPage api={api} />;
  }
}

/** A route that does not exist, or a platform page opened by a tenant admin. */
function NotFoundPage({ home }: { home: string }) {
  return (
    <>
      <PageHeading>Page not found</PageHeading>
      <p className="error" role="alert">
        Not found.
      </p>
      <a href={home}>Back to the start page</a>
    </>
  );
}

/** For pages: a failure's message for a general notice (field errors are shown by their fields). */
export function messageOf(error: unknown): string | undefined {
  if (!error) return undefined;
  if (error instanceof ApiFailure) return error.notFound ? 'Not found.' : error.message;
  return 'Something went wrong.';
}
