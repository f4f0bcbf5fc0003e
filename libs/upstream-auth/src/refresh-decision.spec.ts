import { decideToken, refreshFailureIsTerminal, REFRESH_MARGIN_MS } from './refresh-decision';

describe('decideToken', () => {
  const expiresAt = 10_000_000;
  const stored = { accessToken: 'at-1', expiresAt };

  it('uses a token well before its expiry', () => {
    expect(decideToken(stored, expiresAt - REFRESH_MARGIN_MS - 1)).toBe('use');
  });

  it('refreshes within the margin before expiry, and after it', () => {
    expect(decideToken(stored, expiresAt - REFRESH_MARGIN_MS)).toBe('refresh');
    expect(decideToken(stored, expiresAt + 1)).toBe('refresh');
  });

  it('refreshes a token the upstream just refused, whatever its expiry', () => {
    expect(decideToken(stored, 0, 'at-1')).toBe('refresh');
  });

  it('uses the stored token when the refused one was already replaced (another request refreshed)', () => {
    expect(decideToken(stored, 0, 'at-0')).toBe('use');
  });

  it('uses a token without expires_in until the upstream refuses it', () => {
    expect(decideToken({ accessToken: 'at-1', expiresAt: undefined }, Number.MAX_SAFE_INTEGER)).toBe('use');
    expect(decideToken({ accessToken: 'at-1', expiresAt: undefined }, 0, 'at-1')).toBe('refresh');
  });
});

describe('refreshFailureIsTerminal', () => {
  it('needs a reconnect when the authorization server says the grant or client is gone', () => {
    for (const code of ['invalid_grant', 'invalid_client', 'unauthorized_client']) expect(refreshFailureIsTerminal(code)).toBe(true);
  });

  it('keeps the credential on transient failures (network, 5xx, temporarily_unavailable)', () => {
    for (const code of [undefined, 'server_error', 'temporarily_unavailable']) expect(refreshFailureIsTerminal(code)).toBe(false);
  });
});
