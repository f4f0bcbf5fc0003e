import { redisDurabilityWarning } from './redis-persistence';

describe('redisDurabilityWarning', () => {
  it('says nothing for a Redis with appendonly yes and maxmemory-policy noeviction, whatever its snapshots', () => {
    expect(redisDurabilityWarning({ appendonly: true, save: '', maxmemoryPolicy: 'noeviction' })).toBeUndefined();
    expect(redisDurabilityWarning({ appendonly: true, save: undefined, maxmemoryPolicy: 'noeviction' })).toBeUndefined();
  });

  it('names both settings to change for a Redis that keeps nothing on disk and evicts keys', () => {
    const warning = redisDurabilityWarning({ appendonly: false, save: '', maxmemoryPolicy: 'allkeys-lru' });
    expect(warning).toMatch(/appendonly is no, save "" \(no snapshots either\).*set appendonly yes/);
    expect(warning).toMatch(/maxmemory-policy is allkeys-lru.*set maxmemory-policy noeviction/);
  });

  it('asks for appendonly yes when Redis only takes RDB snapshots, and when CONFIG is disabled so the schedule is unknown', () => {
    expect(redisDurabilityWarning({ appendonly: false, save: '3600 1', maxmemoryPolicy: 'noeviction' })).toMatch(/only RDB snapshots \(save 3600 1\).*set appendonly yes/);
    expect(redisDurabilityWarning({ appendonly: false, save: undefined, maxmemoryPolicy: 'noeviction' })).toMatch(/CONFIG is disabled.*set appendonly yes/);
  });

  it('warns, rather than staying silent, when Redis refuses to report its settings', () => {
    expect(redisDurabilityWarning({ appendonly: undefined, save: undefined, maxmemoryPolicy: undefined })).toMatch(/could not be read.*appendonly yes.*noeviction/);
  });
});
