import { isNodeId, isUuid, nodeIdSchema } from './ids';

describe('isUuid', () => {
  it('accepts any 8-4-4-4-12 hex id in either case', () => {
    expect(isUuid('0b8f6a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b')).toBe(true);
    expect(isUuid('0B8F6A4E-1C2D-4E5F-8A9B-0C1D2E3F4A5B')).toBe(true);
    expect(isUuid('00000000-0000-0000-0000-000000000000')).toBe(true);
  });

  it('refuses what a client made up around an id', () => {
    expect(isUuid('0b8f6a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b.gw-1')).toBe(false);
    expect(isUuid(' 0b8f6a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b')).toBe(false);
    expect(isUuid('acme')).toBe(false);
  });
});

describe('node ids', () => {
  it('allow letters, digits, _ . - up to 64 characters', () => {
    expect(isNodeId('gw-1.eu_west')).toBe(true);
    expect(isNodeId('x'.repeat(64))).toBe(true);
    expect(isNodeId('x'.repeat(65))).toBe(false);
    expect(isNodeId('gw:1')).toBe(false);
    expect(isNodeId(7)).toBe(false);
    expect(nodeIdSchema.safeParse('gw/1').error?.issues[0]?.message).toBe('letters, digits, _ . - only (at most 64)');
  });
});
