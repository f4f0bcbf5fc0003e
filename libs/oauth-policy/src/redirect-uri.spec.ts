import { isLoopbackRedirectUri, redirectUriProblem } from './redirect-uri';

describe('redirect URIs a client may register', () => {
  it.each([
    'https://app.example.com/callback',
    'https://app.example.com:8443/cb?x=1',
    'http://127.0.0.1:33418/callback',
    'http://[::1]/callback',
    'http://localhost:6274/oauth/callback',
    'com.example.app:/oauth2redirect',
    'cursor.app:/callback',
  ])('accepts %s', (uri) => {
    expect(redirectUriProblem(uri)).toBeUndefined();
  });

  it.each([
    ['http://evil.example.com/cb', /loopback/],
    ['http://127.0.0.1.evil.example/cb', /loopback/],
    ['https://app.example.com/cb#frag', /fragment/],
    ['https://user:pw@app.example.com/cb', /user name/],
    ['javascript:alert(1)', /private-use/],
    ['data:text/html,hi', /private-use/],
    ['file:///etc/passwd', /private-use/],
    ['myapp:/cb', /reverse-domain/],
    ['/relative/cb', /absolute/],
    ['https://app.example.com/c b', /whitespace/],
    [`https://app.example.com/${'a'.repeat(2100)}`, /longer/],
  ])('refuses %s', (uri, reason) => {
    expect(redirectUriProblem(uri)).toMatch(reason);
  });

  it('tells loopback redirect URIs apart, whose port a native client may pick at run time', () => {
    expect(isLoopbackRedirectUri('http://127.0.0.1:1234/cb')).toBe(true);
    expect(isLoopbackRedirectUri('https://127.0.0.1/cb')).toBe(false);
    expect(isLoopbackRedirectUri('not a uri')).toBe(false);
  });
});
