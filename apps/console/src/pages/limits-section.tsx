import { useState, type FormEvent } from 'react';
import { ApiFailure, apiPath, type ApiClient } from '../api/client';
import type { Tenant } from '../api/types';
import { LimitFields } from '../components/limit-fields';
import { ErrorNotice } from '../components/ui';
import { describeLimit, LIMITS, toInputs, toOverrides, type LimitInputs } from '../lib/limits-form';
import type { TokenScope } from '../lib/token-scope';

/**
 * The tenant's limit overrides. Platform admins edit them (PATCH /v1/tenants/{t} replaces the
 * overrides as a whole); a tenant admin reads them. Keys show their own overrides on the keys page.
 */
export function LimitsSection({ api, tenant, scope, onSaved }: { api: ApiClient; tenant: Tenant; scope: TokenScope; onSaved: (tenant: Tenant) => void }) {
  return (
    <section aria-labelledby="limits">
      <h2 id="limits">Limits</h2>
      <p className="hint">
        What the gateways enforce for every key of this tenant. A key can lower a limit for itself; a limit left empty here takes the platform default set in the gateway's
        configuration.
      </p>
      {scope.kind === 'platform' ? <LimitsForm api={api} tenant={tenant} onSaved={onSaved} /> : <LimitsTable tenant={tenant} />}
    </section>
  );
}

function LimitsForm({ api, tenant, onSaved }: { api: ApiClient; tenant: Tenant; onSaved: (tenant: Tenant) => void }) {
  // Filled once from the tenant: a save answers with the stored tenant, which refills nothing the admin is typing.
  const [inputs, setInputs] = useState<LimitInputs>(() => toInputs(tenant.limits));
  const [failure, setFailure] = useState<unknown>();
  const [saved, setSaved] = useState('');
  const fieldErrors = failure instanceof ApiFailure ? failure.fieldErrors('limits') : {};
  const hasFieldErrors = Object.keys(fieldErrors).some((key) => key !== '');

  async function submit(event: FormEvent) {
    event.preventDefault();
    setSaved('');
    try {
      const updated = await api.send<Tenant>('PATCH', apiPath('tenants', tenant.id), { limits: toOverrides(inputs, 'tenant') });
      setFailure(undefined);
      setSaved('Limits saved. Gateways apply them to new requests at once.');
      onSaved(updated);
    } catch (error) {
      setFailure(error);
    }
  }
  return (
    <form onSubmit={submit} noValidate aria-label="Tenant limits" className="limits-form">
      <LimitFields level="tenant" inputs={inputs} errors={fieldErrors} onChange={setInputs} />
      <div className="toolbar">
        <button type="submit" className="primary">
          Save limits
        </button>
        <span role="status" className="copy-state">
          {saved}
        </span>
      </div>
      {failure instanceof ApiFailure && !hasFieldErrors ? <ErrorNotice error={failure} /> : null}
    </form>
  );
}

function LimitsTable({ tenant }: { tenant: Tenant }) {
  return (
    <>
      <div className="table-wrap">
        <table>
          <caption className="visually-hidden">Limits of {tenant.slug}</caption>
          <thead>
            <tr>
              <th scope="col">Limit</th>
              <th scope="col">This tenant</th>
            </tr>
          </thead>
          <tbody>
            {LIMITS.map(({ name, label }) => (
              <tr key={name}>
                <th scope="row">{label}</th>
                <td>{tenant.limits?.[name] === undefined ? 'platform default' : describeLimit(tenant.limits[name])}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="hint">Only a platform admin changes a tenant's limits.</p>
    </>
  );
}
