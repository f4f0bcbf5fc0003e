import { useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiFailure, apiPath, createApiClient } from '../api/client';
import { fetchOidcSettings, handoverCodeOf, redeemHandover, type OidcSettings } from '../api/oidc';
import { Field, PageHeading } from '../components/ui';
import { tokenScope, type TokenScope } from '../lib/token-scope';

/**
 * Removes `#/signed-in/<code>` from the address bar (and from this history entry, so Back cannot
 * show it) and returns the code.
 */
function takeHandoverCode(): string | undefined {
  const code = handoverCodeOf(window.location.hash);
  if (code === undefined) return undefined;
  window.history.replaceState(window.history.state, '', `${window.location.pathname}${window.location.search}`);
  return code;
}

/**
 * The hash router read `#/signed-in/…` at start-up and replaceState fires no event: this is the
 * one `location.hash` would have fired. Sent once the redeem is answered, when the router (whose
 * effect runs after this page's) is listening.
 */
function announceRouteChange(): void {
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

/**
 * Paste an admin token, or sign in through the operator's OpenID Connect provider when one is
 * configured; the console checks a pasted token against the API before showing anything.
 */
export function SignInPage({ notice, onSignedIn }: { notice?: string; onSignedIn: (token: string, scope: TokenScope) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [oidc, setOidc] = useState<OidcSettings>({ enabled: false });
  const [redeeming, setRedeeming] = useState(() => handoverCodeOf(window.location.hash) !== undefined);
  const [oidcError, setOidcError] = useState<string | undefined>();
  const signedIn = useRef(onSignedIn);
  signedIn.current = onSignedIn;

  useEffect(() => {
    void fetchOidcSettings().then(setOidc);
  }, []);

  useEffect(() => {
    // Out of the URL before anything else, whether or not the redeem succeeds.
    // (StrictMode runs this twice in development; the second run finds no code.)
    const code = takeHandoverCode();
    if (code === undefined) return;
    redeemHandover(code)
      .then((minted) => {
        const scope = tokenScope(minted);
        if (!scope) throw new ApiFailure(0, 'NOT_A_TOKEN', 'The admin API answered without an admin token.');
        return { minted, scope };
      })
      .then(
        ({ minted, scope }) => {
          announceRouteChange();
          signedIn.current(minted, scope);
        },
        (failure: unknown) => {
          setOidcError(`The sign-in could not be completed: ${failure instanceof ApiFailure ? failure.message : 'something went wrong.'}`);
          setRedeeming(false);
        },
      );
  }, []);

  async function submit(event: FormEvent) {
    event.preventDefault();
    const pasted = token.trim();
    const scope = tokenScope(pasted);
    if (!scope) {
      setError('This is not an admin token. Use the token `npm start` printed, or mint one with `npm run admin -- token`.');
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      const api = createApiClient({ token: pasted, onUnauthorized: () => undefined });
      await api.get(scope.kind === 'platform' ? '/v1/tenants?limit=1' : apiPath('tenants', scope.tenantId));
      onSignedIn(pasted, scope);
    } catch (failure) {
      setError(
        failure instanceof ApiFailure && failure.status === 401
          ? `The admin API did not accept this token (${failure.message}) It may have expired: mint a new one with \`npm run admin -- token\`.`
          : failure instanceof ApiFailure
            ? failure.notFound
              ? 'The tenant of this token was not found.'
              : failure.message
            : 'Something went wrong.',
      );
      setBusy(false);
    }
  }

  return (
    <main id="main" className="sign-in" tabIndex={-1}>
      <PageHeading>Sign in to Switchboard</PageHeading>
      {notice && (
        <p className="notice" role="status">
          {notice}
        </p>
      )}
      {redeeming && (
        <p className="loading" role="status">
          Signing you in…
        </p>
      )}
      {oidcError && (
        <p className="error" role="alert">
          {oidcError}
        </p>
      )}
      {oidc.enabled && (
        <>
          {/* A link, not a form: the console's CSP (form-action 'self') would stop a form redirected on to the provider. */}
          <p>
            <a className="button primary" href={oidc.startUrl}>
              Sign in with {oidc.provider}
            </a>
          </p>
          <p className="hint">Or paste an admin token:</p>
        </>
      )}
      <form onSubmit={submit} noValidate>
        <Field label="Admin token" error={error} hint="Printed by `npm start`; more with `npm run admin -- token`. Kept in this tab's memory only: a reload asks again.">
          {(props) => (
            <input
              {...props}
              type="password"
              name="token"
              autoComplete="off"
              spellCheck={false}
              required
              value={token}
              onChange={(event) => setToken(event.target.value)}
            />
          )}
        </Field>
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
