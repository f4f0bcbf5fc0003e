import { useEffect, useState } from 'react';
import { ApiFailure, createApiClient, type ApiClient } from './api/client';
import { useHashRoute, navigate } from './lib/hash-route';
import type { TokenScope } from './lib/token-scope';
import { PlatformAuditPage } from './pages/platform-audit-page';
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
    if (session?.scope.kind === 'tenant' && route.name !== 'tenant') navigate(`/tenants/${session.scope.tenantId}`);
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
              <a href="#/audit" aria-current={route.name === 'audit' ? 'page' : undefined}>
                Platform audit log
              </a>
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
        ) : session.scope.kind === 'platform' && route.name === 'audit' ? (
          <PlatformAuditPage api={session.api} />
        ) : session.scope.kind === 'platform' ? (
          <TenantsPage api={session.api} />
        ) : null}
      </main>
    </>
  );
}

/** For pages: a failure's message for a general notice (field errors are shown by their fields). */
export function messageOf(error: unknown): string | undefined {
  if (!error) return undefined;
  if (error instanceof ApiFailure) return error.notFound ? 'Not found.' : error.message;
  return 'Something went wrong.';
}
