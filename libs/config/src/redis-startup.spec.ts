import { waitForRedisAtStartup } from './redis-startup';

function recordingLogger() {
  const warnings: { fields: object; message: string }[] = [];
  return { warnings, warn: (fields: object, message: string) => warnings.push({ fields, message }) };
}

describe('waitForRedisAtStartup', () => {
  it('goes on at once when Redis is ready', async () => {
    const logger = recordingLogger();
    await expect(waitForRedisAtStartup(Promise.resolve(), logger, 'serving degraded')).resolves.toBe(true);
    expect(logger.warnings).toEqual([]);
  });

  it('serves anyway after the wait, and says what works meanwhile', async () => {
    const logger = recordingLogger();
    await expect(waitForRedisAtStartup(new Promise(() => undefined), logger, 'serving degraded', 10)).resolves.toBe(false);
    expect(logger.warnings).toEqual([{ fields: { waitedMs: 10 }, message: 'serving degraded' }]);
  });

  it('passes on a connection that fails outright', async () => {
    await expect(waitForRedisAtStartup(Promise.reject(new Error('bad URL')), recordingLogger(), 'serving degraded')).rejects.toThrow('bad URL');
  });
});
