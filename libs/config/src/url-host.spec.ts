import { urlHost } from './url-host';

describe('urlHost', () => {
  it('prints a wildcard listen address as localhost and brackets IPv6', () => {
    expect(urlHost('0.0.0.0')).toBe('localhost');
    expect(urlHost('::')).toBe('localhost');
    expect(urlHost('::1')).toBe('[::1]');
    expect(urlHost('127.0.0.1')).toBe('127.0.0.1');
    expect(urlHost('api.internal')).toBe('api.internal');
  });
});
