import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { createLogger } from '@switchboard/logger';
import { CONSOLE_CSP, serveConsole } from './console-static';

const silent = createLogger({ name: 'test', level: 'silent' });

describe('serveConsole', () => {
  let dir: string;
  let app: FastifyInstance;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sb-console-static-'));
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>console</title>');
    writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    app = Fastify();
    app.get('/v1/ping', async () => ({ ok: true }));
    await serveConsole(app, dir, silent);
    await app.ready();
  });

  afterEach(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html uncached, with the strict CSP', async () => {
    const response = await app.inject({ method: 'GET', url: '/console/' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });

  it('caches hashed assets for a year', async () => {
    const response = await app.inject({ method: 'GET', url: '/console/assets/index-abc123.js' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
  });

  it('redirects /console to /console/', async () => {
    const response = await app.inject({ method: 'GET', url: '/console' });
    expect(response.statusCode).toBe(301);
    expect(response.headers['location']).toBe('/console/');
  });

  it('does not serve files outside its folder', async () => {
    const response = await app.inject({ method: 'GET', url: '/console/../../etc/passwd' });
    expect(response.statusCode).toBe(404);
  });

  it('leaves the API routes without the console headers', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/ping' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-security-policy']).toBeUndefined();
  });

  it('serves nothing when the console is not built', async () => {
    const empty = Fastify();
    await serveConsole(empty, path.join(dir, 'missing'), silent);
    expect((await empty.inject({ method: 'GET', url: '/console/' })).statusCode).toBe(404);
    await empty.close();
  });
});
