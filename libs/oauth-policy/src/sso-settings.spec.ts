import { readSsoSettings, ssoIssuerProblem, ssoSettingsView } from './sso-settings';

describe('SSO settings', () => {
  it('accepts https issuers and plain http only on loopback', () => {
    expect(ssoIssuerProblem('https://login.acme.example')).toBeUndefined();
    expect(ssoIssuerProblem('https://login.acme.example/realms/acme')).toBeUndefined();
    expect(ssoIssuerProblem('http://127.0.0.1:8080')).toBeUndefined();
    expect(ssoIssuerProblem('http://login.acme.example')).toMatch(/https/);
    expect(ssoIssuerProblem('http://10.0.0.1')).toMatch(/https/);
  });

  it('refuses issuers with credentials, a query or a fragment, and non-URLs', () => {
    for (const issuer of ['https://u:p@login.acme.example', 'https://login.acme.example?x=1', 'https://login.acme.example#f', 'login.acme.example'])
      expect(ssoIssuerProblem(issuer)).toBeDefined();
  });

  it('reads a stored provider, and reads SSO as off when it is absent or does not validate', () => {
    const sso = { issuer: 'https://login.acme.example', clientId: 'c', clientSecretSealed: 'v1.sealed', allowedEmailDomains: ['acme.example'] };
    expect(readSsoSettings({ sso })).toEqual(sso);
    expect(readSsoSettings({})).toBeUndefined();
    expect(readSsoSettings(null)).toBeUndefined();
    expect(readSsoSettings({ sso: { ...sso, issuer: 'http://evil.example' } })).toBeUndefined();
    expect(readSsoSettings({ sso: { ...sso, clientSecretSealed: undefined } })).toBeUndefined();
  });

  it('never shows the sealed secret', () => {
    const view = ssoSettingsView({ issuer: 'https://login.acme.example', clientId: 'c', clientSecretSealed: 'v1.sealed', allowedEmailDomains: [] });
    expect(view).toEqual({ issuer: 'https://login.acme.example', clientId: 'c', clientSecretSet: true, allowedEmailDomains: [] });
  });
});
