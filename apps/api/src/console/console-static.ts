import { existsSync } from 'node:fs';
import path from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import type { Logger } from '@switchboard/logger';

/** The web console (apps/console) lives beside /v1 on the API's origin: no CORS, no CDN. */
export const CONSOLE_PATH = '/console';

/**
 * The console's own bundle and the API on the same origin are all it loads: no inline script or
 * style (Vite emits neither in a build), no frames, no third-party origin.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** Vite names every asset by its content hash: a new build is a new URL, so a year is safe. */
const HASHED_ASSET_CACHE = 'public, max-age=31536000, immutable';
const ASSETS_DIR = 'assets';

/**
 * Serves the built console from `dir` at /console/ (index.html never cached, hashed assets
 * cached for good). A missing build serves nothing and says so once: the API works without it.
 */
export async function serveConsole(fastify: FastifyInstance, dir: string, logger: Logger): Promise<void> {
  if (!existsSync(path.join(dir, 'index.html'))) {
    logger.warn({ dir }, 'web console not built (npm run build): /console is not served');
    return;
  }
  // Its own scope: the headers below apply to the console's routes only, never to /v1.
  await fastify.register(async (scope) => {
    scope.addHook('onSend', async (_request, reply) => {
      reply.header('content-security-policy', CONSOLE_CSP);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
      reply.header('cross-origin-opener-policy', 'same-origin');
    });
    // Relative asset URLs need the trailing slash.
    scope.get(CONSOLE_PATH, (_request, reply) => reply.redirect(`${CONSOLE_PATH}/`, 301));
    await scope.register(fastifyStatic, {
      root: dir,
      prefix: `${CONSOLE_PATH}/`,
      index: 'index.html',
      cacheControl: false,
      etag: true,
      dotfiles: 'deny',
      decorateReply: false,
      setHeaders: (reply, file) => {
        const hashed = path.relative(dir, file).split(path.sep)[0] === ASSETS_DIR;
        reply.header('cache-control', hashed ? HASHED_ASSET_CACHE : 'no-store');
      },
    });
  });
}
