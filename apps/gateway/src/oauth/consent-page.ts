/**
 * The sign-in and consent page, as server-rendered HTML: no script, so it works without
 * JavaScript and a strict CSP (`default-src 'none'`) holds; labels on every control, native
 * keyboard order, text contrast above 7:1.
 */
export interface ConsentView {
  clientName: string;
  clientUri: string | undefined;
  redirectHost: string;
  /** Dynamic clients named themselves: the page says so. */
  unverified: boolean;
  tenantName: string;
  resource: string;
  /** One checkbox each; the base scope is fixed. */
  plugins: { name: string; checked: boolean }[];
  sealed: string;
  error?: string;
  /** The tenant's identity provider (its host), when the page offers "Sign in with …". */
  ssoProvider?: string;
  /** The email the person signed in with through the provider: the page asks for no key. */
  signedInAs?: string;
}

/** Everything the page shows from the client or the request passes through here. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `body{font-family:system-ui,sans-serif;background:#fff;color:#111;max-width:34rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
h1{font-size:1.4rem}fieldset{border:1px solid #555;border-radius:.4rem;margin:1rem 0;padding:.5rem 1rem}
legend{font-weight:600}label{display:block;margin:.3rem 0}input[type=password]{width:100%;padding:.5rem;font:inherit;border:1px solid #333;box-sizing:border-box}
.warn{background:#fff4ce;border:1px solid #7a5a00;padding:.5rem;border-radius:.3rem}.error{background:#fde7e9;border:1px solid #a4262c;color:#5c0a0f;padding:.5rem;border-radius:.3rem}
button{font:inherit;padding:.5rem 1.2rem;margin-right:.5rem;border-radius:.3rem;border:1px solid #111;cursor:pointer}
button.primary{background:#0b3d91;color:#fff}:focus-visible{outline:3px solid #0b3d91;outline-offset:2px}code{word-break:break-all}`;

export function renderConsentPage(view: ConsentView): string {
  const e = escapeHtml;
  const plugins = view.plugins
    .map((p, i) => `<label for="plugin-${i}"><input type="checkbox" id="plugin-${i}" name="plugin" value="${e(p.name)}"${p.checked ? ' checked' : ''}> Plugin <strong>${e(p.name)}</strong></label>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in to ${e(view.tenantName)}</title><style>${STYLE}</style></head>
<body><main>
<h1>Allow <strong>${e(view.clientName)}</strong> to use ${e(view.tenantName)}?</h1>
${view.error ? `<p class="error" role="alert">${e(view.error)}</p>` : ''}
<p>The application will be sent to <strong>${e(view.redirectHost)}</strong>${view.clientUri ? ` and says it is <a href="${e(view.clientUri)}" rel="noreferrer noopener">${e(view.clientUri)}</a>` : ''}.</p>
${view.unverified ? '<p class="warn"><strong>Unverified application.</strong> It registered itself and named itself; approve only if you started this sign-in.</p>' : ''}
<p>It asks for access to <code>${e(view.resource)}</code>.</p>
<form method="post" action="/oauth/authorize">
<input type="hidden" name="request" value="${e(view.sealed)}">
<fieldset><legend>Access</legend>
<label><input type="checkbox" checked disabled> MCP access to ${e(view.tenantName)} (required)</label>
${plugins}
</fieldset>
${view.signedInAs ? `<p>Signed in as <strong>${e(view.signedInAs)}</strong>${view.ssoProvider ? ` through ${e(view.ssoProvider)}` : ''}.</p>` : `<label for="api_key">API key of ${e(view.tenantName)}</label>
<input type="password" id="api_key" name="api_key" autocomplete="off" spellcheck="false" required aria-describedby="api_key_help">
<p id="api_key_help">Paste an API key (<code>sbk_…</code>) of this tenant. The application gets at most what the key may do; the key itself is not shared with it.</p>
${view.ssoProvider ? `<p><button type="submit" formaction="/oauth/sso/start" formnovalidate name="decision" value="sso">Sign in with ${e(view.ssoProvider)}</button> instead of a key.</p>` : ''}`}
<button type="submit" name="decision" value="approve" class="primary">Approve</button>
<button type="submit" name="decision" value="deny" formnovalidate>Deny</button>
</form>
</main></body></html>`;
}

/** An authorization error that must not redirect (unknown client or redirect URI): shown to the person. */
export function renderErrorPage(error: string, description: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign-in error</title><style>${STYLE}</style></head>
<body><main><h1>This sign-in cannot continue</h1><p class="error" role="alert"><strong>${escapeHtml(error)}</strong>: ${escapeHtml(description)}</p>
<p>Return to the application and try again.</p></main></body></html>`;
}
