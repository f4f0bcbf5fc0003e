// Sign-in through the operator's OpenID Connect provider (docs/console.md): the API does the whole
// round trip and lands the browser on `#/signed-in/<code>`; the console trades that single-use
// code for its admin token. These routes live under /console/oidc: /v1 takes bearer tokens only.

import { ApiFailure } from './client';

export type OidcSettings = { enabled: false } | { enabled: true; provider: string; startUrl: string };

const SETTINGS_PATH = '/console/oidc';
const REDEEM_PATH = '/console/oidc/redeem';
const HANDOVER_FRAGMENT = /^#\/signed-in\/([A-Za-z0-9_-]{1,200})$/;

/** Whether the sign-in page offers "Sign in with <provider>"; not offered when the API cannot say. */
export async function fetchOidcSettings(doFetch: typeof fetch = (input, init) => fetch(input, init)): Promise<OidcSettings> {
  try {
    const response = await doFetch(SETTINGS_PATH, { cache: 'no-store', credentials: 'omit' });
    const body = (await response.json()) as Partial<{ enabled: boolean; provider: unknown; startUrl: unknown }>;
    if (response.ok && body.enabled === true && typeof body.provider === 'string' && typeof body.startUrl === 'string') return { enabled: true, provider: body.provider, startUrl: body.startUrl };
  } catch {
    // An older API, or none reachable: the token form still works.
  }
  return { enabled: false };
}

/** The handover code of a `#/signed-in/<code>` fragment, else undefined. */
export function handoverCodeOf(hash: string): string | undefined {
  return HANDOVER_FRAGMENT.exec(hash)?.[1];
}

/** The admin token behind a handover code; the API answers it once, within a minute. */
export async function redeemHandover(code: string, doFetch: typeof fetch = (input, init) => fetch(input, init)): Promise<string> {
  let response: Response;
  try {
    response = await doFetch(REDEEM_PATH, {
      method: 'POST',
      cache: 'no-store',
      credentials: 'omit',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code }),
    });
  } catch {
    throw new ApiFailure(0, 'NETWORK', 'The admin API could not be reached. Check that Switchboard is running.');
  }
  const body = (await response.json().catch(() => undefined)) as { token?: unknown; error?: { code?: unknown; message?: unknown } } | undefined;
  if (response.ok && typeof body?.token === 'string') return body.token;
  const message = typeof body?.error?.message === 'string' ? body.error.message : `The admin API answered ${response.status}.`;
  throw new ApiFailure(response.status, typeof body?.error?.code === 'string' ? body.error.code : `HTTP_${response.status}`, message);
}
