import { bearerToken } from './bearer-token';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYWRtaW4ifQ.c2lnbmF0dXJl';

describe('bearerToken', () => {
  it('reads one b64token after the scheme, whatever its case', () => {
    expect(bearerToken(`Bearer ${JWT}`)).toBe(JWT);
    expect(bearerToken(`bearer ${JWT}`)).toBe(JWT);
    expect(bearerToken(`BEARER ${JWT}`)).toBe(JWT);
    expect(bearerToken('Bearer sbk_abc.def~ghi+/==')).toBe('sbk_abc.def~ghi+/==');
  });

  it.each([
    ['a second word after the token', `Bearer ${JWT} extra-garbage`],
    ['two tokens', `Bearer ${JWT} ${JWT}`],
    ['a comma-joined second credential', `Bearer ${JWT}, Basic abc`],
    ['another scheme', `Basic ${JWT}`],
    ['a scheme glued to the token', `Bearer${JWT}`],
    ['no token', 'Bearer '],
    ['a tab instead of a space', `Bearer\t${JWT}`],
    // One space exactly, as the gateway: no proxy or library in front can read another token.
    ['two spaces after the scheme', `Bearer  ${JWT}`],
    ['characters outside b64token', 'Bearer abc"def'],
    ['padding in the middle', 'Bearer ab=cd'],
    ['the token alone', JWT],
  ])('refuses %s', (_label, header) => {
    expect(bearerToken(header)).toBeUndefined();
  });

  it('refuses a missing header and repeated Authorization headers', () => {
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken([`Bearer ${JWT}`, `Bearer ${JWT}`])).toBeUndefined();
  });
});
