import { AddressGuard } from './address-guard';

// Only the guard's decisions are tested here: no traffic is sent to any of these addresses.
describe('AddressGuard', () => {
  const guard = new AddressGuard();

  it.each([
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.254', 'private'],
    ['192.168.1.1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['169.254.169.254', 'metadata'],
    ['169.254.0.1', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['0.0.0.0', 'this network'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fc00::1', 'unique local'],
    ['fd00:ec2::254', 'metadata'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:10.1.2.3', 'private'],
    ['64:ff9b::a00:1', 'NAT64'],
    ['2002:a00:1::', '6to4'],
  ])('refuses %s (%s)', (address) => {
    expect(guard.check(address).allowed).toBe(false);
  });

  it.each(['93.184.215.14', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows the public address %s', (address) => {
    expect(guard.check(address)).toEqual({ allowed: true });
  });

  it('says why an address is refused', () => {
    expect(guard.check('169.254.169.254')).toEqual({ allowed: false, reason: expect.stringMatching(/metadata/) });
  });

  it('refuses hostnames: callers must resolve and check each address', () => {
    expect(guard.check('localhost')).toEqual({ allowed: false, reason: 'not an IP address' });
  });

  it('allows only the ranges an explicit allowlist names', () => {
    const testOnly = new AddressGuard({ allow: ['127.0.0.1/32'] });
    expect(testOnly.check('127.0.0.1').allowed).toBe(true);
    expect(testOnly.check('::ffff:127.0.0.1').allowed).toBe(true);
    expect(testOnly.check('127.0.0.2').allowed).toBe(false);
    expect(testOnly.check('::1').allowed).toBe(false);
    expect(testOnly.check('10.0.0.1').allowed).toBe(false);
  });
});
