import { instantProblem, instantSchema } from './instant';

describe('instantProblem', () => {
  it.each(['2026-11-01', '2024-02-29', '2026-11-01T09:00Z', '2026-11-01T09:00:00Z', '2026-11-01T09:00:00.123456789+01:00', '1970-01-01', '9999-12-31T23:59:59.999Z', '2026-11-01T09:00:00-12:00'])(
    'accepts %s',
    (value) => {
      expect(instantProblem(value, { allowDate: true })).toBeUndefined();
    },
  );

  it.each([
    ['year 0', '0000-01-01'],
    ['before 1970', '1969-12-31T23:59:59Z'],
    ['year 1 shifted into year 0 by its zone', '0001-01-01T00:00:00+01:00'],
    ['year 9999 shifted into year 10000 by its zone', '9999-12-31T23:00:00-14:00'],
    ['a six-digit year', '+275760-01-01'],
    ['February 31st', '2026-02-31'],
    ['February 29th of a common year', '2026-02-29'],
    ['month 13', '2026-13-01'],
    ['hour 24', '2026-11-01T24:00:00Z'],
    ['a leap second', '2026-11-01T23:59:60Z'],
    ['an offset of 24 hours', '2026-11-01T09:00:00+24:00'],
    ['an offset beyond real zones', '2026-11-01T09:00:00+15:00'],
    ['a time without zone', '2026-11-01T09:00:00'],
    ['lower-case separators', '2026-11-01t09:00:00z'],
    ['a number', '1793523600000'],
    ['an empty string', ''],
  ])('refuses %s', (_label, value) => {
    expect(instantProblem(value, { allowDate: true })).toEqual(expect.any(String));
  });

  it('refuses a bare date where a date-time is required', () => {
    expect(instantProblem('2026-11-01', { allowDate: false })).toMatch(/date-time/);
  });

  it('parses to the instant the string names', () => {
    expect(instantSchema({ allowDate: true }).parse('2026-11-01T09:00:00+01:00').toISOString()).toBe('2026-11-01T08:00:00.000Z');
  });
});
