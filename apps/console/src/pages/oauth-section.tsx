import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { ApiFailure, apiPath, type ApiClient } from '../api/client';
import type { OAuthClient, OAuthGrant, OAuthSettings, Page, RegisteredOAuthClient, Tenant } from '../api/types';
import { ConfirmButton, Empty, ErrorNotice, Field, Loading } from '../components/ui';
import { CopyRow } from './api-keys-section';

const PAGE_SIZE = 25;

/** A tenant's OAuth: its settings, the clients people use, and what they approved (grants). */
export function OAuthSection({ api, tenant }: { api: ApiClient; tenant: Tenant }) {
  const [clients, setClients] = useState<OAuthClient[] | null>(null);
  const [clientsError, setClientsError] = useState<unknown>();
  const loadClients = useCallback(async () => {
    try {
      setClients((await api.get<{ items: OAuthClient[] }>(apiPath('tenants', tenant.id, 'oauth', 'clients'))).items);
      setClientsError(undefined);
    } catch (failure) {
      setClientsError(failure);
    }
  }, [api, tenant.id]);
  useEffect(() => {
    void loadClients();
  }, [loadClients]);

  return (
    <>
      <SettingsForm api={api} tenant={tenant} />
      <section aria-labelledby="oauth-clients">
        <h2 id="oauth-clients">OAuth clients</h2>
        <RegisterClientForm api={api} tenant={tenant} onRegistered={() => void loadClients()} />
        <ErrorNotice error={clientsError} />
        {!clients ? (
          !clientsError && <Loading what="OAuth clients" />
        ) : clients.length === 0 ? (
          <Empty>No OAuth clients yet. Clients appear once registered or once someone grants one access.</Empty>
        ) : (
          <ul className="cards" aria-label="OAuth clients">
            {clients.map((client) => (
              <li key={client.id} className="card">
                <div className="card-main">
                  <strong>{client.name}</strong>
                  <span className="badge">{client.kind.replace('_', ' ')}</span>
                  <span className="mono">{client.id}</span>
                  <span className="hint">
                    {client.activeGrants} active {client.activeGrants === 1 ? 'grant' : 'grants'} · redirects to {client.redirectUris.join(', ')}
                  </span>
                </div>
                <div className="actions">
                  <ConfirmButton
                    label={`Revoke ${client.name}`}
                    question={client.tenantId ? `Revoke ${client.name} and all its grants?` : `Revoke the grants of ${client.name} on this tenant?`}
                    confirmLabel={`Yes, revoke ${client.name}`}
                    onConfirm={() =>
                      void api.send('DELETE', apiPath('tenants', tenant.id, 'oauth', 'clients', client.id)).then(loadClients, setClientsError)
                    }
                  />
                </div>
              </li>
            ))}
          </ul>
        )}
      </section>
      <GrantsList api={api} tenant={tenant} onChange={() => void loadClients()} />
    </>
  );
}

const CLIENT_TYPES: { value: RegisteredOAuthClient['client']['tokenEndpointAuth']; label: string }[] = [
  { value: 'none', label: 'Public: an app on a device or in a browser (PKCE, no secret)' },
  { value: 'client_secret_basic', label: 'Confidential: a server with a client secret (HTTP Basic)' },
  { value: 'client_secret_post', label: 'Confidential: a server with a client secret (in the form body)' },
];

/**
 * Registers a client for this tenant ahead of time (for clients that cannot register themselves).
 * A confidential client's secret exists only in the panel shown after: dismissing it forgets it.
 */
function RegisterClientForm({ api, tenant, onRegistered }: { api: ApiClient; tenant: Tenant; onRegistered: () => void }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [redirectUris, setRedirectUris] = useState('');
  const [clientUri, setClientUri] = useState('');
  const [tokenEndpointAuth, setTokenEndpointAuth] = useState<(typeof CLIENT_TYPES)[number]['value']>('none');
  const [failure, setFailure] = useState<unknown>();
  const [registered, setRegistered] = useState<RegisteredOAuthClient | null>(null);
  const fieldErrors = failure instanceof ApiFailure ? failure.fieldErrors() : {};
  // `redirectUris.1` names one line of the list: shown beside the whole list.
  const redirectError = Object.entries(fieldErrors).find(([path]) => path === 'redirectUris' || path.startsWith('redirectUris.'));

  async function submit(event: FormEvent) {
    event.preventDefault();
    try {
      const body = {
        name,
        redirectUris: redirectUris.split('\n').map((uri) => uri.trim()).filter(Boolean),
        ...(clientUri.trim() ? { clientUri: clientUri.trim() } : {}),
        tokenEndpointAuth,
      };
      setRegistered(await api.send<RegisteredOAuthClient>('POST', apiPath('tenants', tenant.id, 'oauth', 'clients'), body));
      setFailure(undefined);
      setOpen(false);
      setName('');
      setRedirectUris('');
      setClientUri('');
      onRegistered();
    } catch (error) {
      setFailure(error);
    }
  }

  if (registered) {
    return (
      <section className="issued" aria-labelledby="registered-client">
        <h3 id="registered-client">Client {registered.client.name} registered{registered.clientSecret ? ': copy its secret now' : ''}</h3>
        {registered.clientSecret && <p>The secret is shown this once; only its hash is stored.</p>}
        <CopyRow label="Client ID" copy="Copy client ID" value={registered.client.id} />
        {registered.clientSecret && <CopyRow label="Client secret" copy="Copy client secret" value={registered.clientSecret} />}
        <button type="button" className="primary" onClick={() => setRegistered(null)}>
          {registered.clientSecret ? 'I have saved it' : 'Done'}
        </button>
      </section>
    );
  }
  if (!open) {
    return (
      <button type="button" onClick={() => setOpen(true)}>
        Register a client
      </button>
    );
  }
  return (
    <form onSubmit={submit} noValidate aria-label="Register an OAuth client" className="settings-form">
      <Field label="Client name" error={fieldErrors['name']} hint="Shown to people on the consent page.">
        {(props) => <input {...props} value={name} onChange={(event) => setName(event.target.value)} />}
      </Field>
      <Field label="Redirect URIs" error={redirectError?.[1]} hint="One per line, exact: https, http on a loopback address, or an app's own scheme.">
        {(props) => <textarea {...props} rows={3} value={redirectUris} onChange={(event) => setRedirectUris(event.target.value)} />}
      </Field>
      <Field label="Client web page (optional)" error={fieldErrors['clientUri']}>
        {(props) => <input {...props} type="url" value={clientUri} onChange={(event) => setClientUri(event.target.value)} />}
      </Field>
      <Field label="Client type" error={fieldErrors['tokenEndpointAuth']}>
        {(props) => (
          <select {...props} value={tokenEndpointAuth} onChange={(event) => setTokenEndpointAuth(event.target.value as typeof tokenEndpointAuth)}>
            {CLIENT_TYPES.map((type) => (
              <option key={type.value} value={type.value}>
                {type.label}
              </option>
            ))}
          </select>
        )}
      </Field>
      <button type="submit" className="primary">
        Register client
      </button>{' '}
      <button type="button" onClick={() => setOpen(false)}>
        Cancel
      </button>
      {failure instanceof ApiFailure && Object.keys(fieldErrors).length === 0 ? <ErrorNotice error={failure} /> : null}
      {failure !== undefined && !(failure instanceof ApiFailure) ? <ErrorNotice error={failure} /> : null}
    </form>
  );
}

function SettingsForm({ api, tenant }: { api: ApiClient; tenant: Tenant }) {
  const [settings, setSettings] = useState<OAuthSettings | null>(null);
  const [dynamicRegistration, setDynamicRegistration] = useState(false);
  const [ttl, setTtl] = useState('');
  const [hosts, setHosts] = useState('');
  const [failure, setFailure] = useState<unknown>();
  const [saved, setSaved] = useState('');
  const fieldErrors = failure instanceof ApiFailure ? failure.fieldErrors() : {};
  // `metadataDocumentHosts.2` names one line of the list: shown beside the whole list.
  const hostsError = Object.entries(fieldErrors).find(([path]) => path === 'metadataDocumentHosts' || path.startsWith('metadataDocumentHosts.'));

  function show(value: OAuthSettings) {
    setSettings(value);
    setDynamicRegistration(value.dynamicRegistration);
    setTtl(String(value.accessTokenTtlSeconds));
    setHosts(value.metadataDocumentHosts.join('\n'));
  }
  // Loaded once per tenant: a render that runs the effect again must not put the stored values
  // back over what the person is typing.
  const loadedFor = useRef<string | undefined>(undefined);
  useEffect(() => {
    if (loadedFor.current === tenant.id) return;
    loadedFor.current = tenant.id;
    api.get<OAuthSettings>(apiPath('tenants', tenant.id, 'oauth', 'settings')).then(show, setFailure);
  }, [api, tenant.id]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setSaved('');
    try {
      const body = {
        dynamicRegistration,
        // Sent as typed when it is no number, so the API names the field.
        accessTokenTtlSeconds: /^\d+$/.test(ttl.trim()) ? Number(ttl.trim()) : ttl,
        metadataDocumentHosts: hosts.split('\n').map((host) => host.trim()).filter(Boolean),
      };
      show(await api.send<OAuthSettings>('PATCH', apiPath('tenants', tenant.id, 'oauth', 'settings'), body));
      setFailure(undefined);
      setSaved('OAuth settings saved.');
    } catch (error) {
      setFailure(error);
    }
  }

  return (
    <section aria-labelledby="oauth-settings">
      <h2 id="oauth-settings">OAuth settings</h2>
      {!settings ? (
        failure ? <ErrorNotice error={failure} /> : <Loading what="OAuth settings" />
      ) : (
        <form onSubmit={submit} noValidate aria-label="OAuth settings" className="settings-form">
          <div className="field field-check">
            <input id="oauth-dynamic-registration" type="checkbox" checked={dynamicRegistration} onChange={(event) => setDynamicRegistration(event.target.checked)} />
            <label htmlFor="oauth-dynamic-registration">Dynamic client registration</label>
          </div>
          <Field label="Access token lifetime (seconds)" error={fieldErrors['accessTokenTtlSeconds']} hint="60 to 3600. Shorter ends a revoked grant's last token sooner.">
            {(props) => <input {...props} inputMode="numeric" value={ttl} onChange={(event) => setTtl(event.target.value)} />}
          </Field>
          <Field label="Client metadata document hosts" error={hostsError?.[1]} hint="One host name per line, e.g. app.example.com: clients whose id is a URL on these hosts may sign in.">
            {(props) => <textarea {...props} rows={3} value={hosts} onChange={(event) => setHosts(event.target.value)} />}
          </Field>
          <p className="hint">Single sign-on: {settings.sso ? `on (${settings.sso.issuer})` : 'off'}.</p>
          <button type="submit" className="primary">
            Save OAuth settings
          </button>
          <span className="copy-state" role="status">
            {saved}
          </span>
          {failure instanceof ApiFailure && Object.keys(fieldErrors).length === 0 ? <ErrorNotice error={failure} /> : null}
        </form>
      )}
    </section>
  );
}

function GrantsList({ api, tenant, onChange }: { api: ApiClient; tenant: Tenant; onChange: () => void }) {
  const [grants, setGrants] = useState<OAuthGrant[] | null>(null);
  const [nextCursor, setNextCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>();

  const load = useCallback(
    async (cursor?: string) => {
      try {
        const page = await api.get<Page<OAuthGrant>>(`${apiPath('tenants', tenant.id, 'oauth', 'grants')}?limit=${PAGE_SIZE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
        setGrants((previous) => (cursor && previous ? [...previous, ...page.items] : page.items));
        setNextCursor(page.nextCursor);
        setError(undefined);
      } catch (failure) {
        setError(failure);
      }
    },
    [api, tenant.id],
  );
  useEffect(() => {
    void load();
  }, [load]);

  async function revoke(grant: OAuthGrant) {
    try {
      await api.send('DELETE', apiPath('tenants', tenant.id, 'oauth', 'grants', grant.id));
      await load();
      onChange();
    } catch (failure) {
      setError(failure);
    }
  }

  return (
    <section aria-labelledby="oauth-grants">
      <h2 id="oauth-grants">Grants</h2>
      <p className="hint">What people approved for a client. Revoking ends its refresh tokens at once and its access tokens within a second.</p>
      <ErrorNotice error={error} />
      {!grants ? (
        !error && <Loading what="grants" />
      ) : grants.length === 0 ? (
        <Empty>No grants yet. One appears when someone approves a client on the consent page.</Empty>
      ) : (
        <ul className="cards" aria-label="Grants">
          {grants.map((grant) => (
            <li key={grant.id} className="card">
              <div className="card-main">
                <strong>{grant.clientName}</strong>
                <span>{grant.email ?? grant.subject}</span>
                <span className={`badge badge-${grant.status}`}>{grant.status}</span>
                <span className="mono">{grant.scopes.join(' ')}</span>
                <span className="hint">
                  {grant.status === 'revoked' && grant.revokedReason
                    ? `revoked (${grant.revokedReason})`
                    : grant.lastUsedAt
                      ? `last used ${new Date(grant.lastUsedAt).toLocaleString()}`
                      : `granted ${new Date(grant.createdAt).toLocaleString()}`}
                </span>
              </div>
              {grant.status === 'active' && (
                <div className="actions">
                  <ConfirmButton
                    label="Revoke"
                    question={`Revoke ${grant.clientName}'s access for ${grant.email ?? grant.subject}?`}
                    confirmLabel={`Revoke grant of ${grant.clientName}`}
                    onConfirm={() => void revoke(grant)}
                  />
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {nextCursor && (
        <button type="button" onClick={() => void load(nextCursor)}>
          Load more grants
        </button>
      )}
    </section>
  );
}
