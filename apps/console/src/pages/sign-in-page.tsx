import { useState, type FormEvent } from 'react';
import { ApiFailure, apiPath, createApiClient } from '../api/client';
import { Field, PageHeading } from '../components/ui';
import { tokenScope, type TokenScope } from '../lib/token-scope';

/** Paste an admin token; the console checks it against the API before showing anything. */
export function SignInPage({ notice, onSignedIn }: { notice?: string; onSignedIn: (token: string, scope: TokenScope) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

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
