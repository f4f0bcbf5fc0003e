import { z } from 'zod';

// Variables shared by the apps. Each app's config loader composes these with its own.

export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

export const databaseUrl = z
  .string()
  .refine((v) => /^postgres(ql)?:\/\//.test(v), 'must be a postgresql:// URL')
  .optional();

export const redisUrl = z
  .string()
  .refine((v) => /^rediss?:\/\//.test(v), 'must be a redis:// or rediss:// URL')
  .optional();

export const httpUrl = z
  .string()
  .refine((v) => {
    try {
      return ['http:', 'https:'].includes(new URL(v).protocol);
    } catch {
      return false;
    }
  }, 'must be an http:// or https:// URL')
  .transform((v) => v.replace(/\/+$/, ''));

export const logLevel = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

/** A 32-byte key given as base64 (44 chars) or hex (64 chars). */
export const key32 = z.string().transform((v, ctx) => {
  const bytes = /^[0-9a-f]{64}$/i.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64');
  if (bytes.length !== 32) {
    ctx.addIssue({ code: 'custom', message: 'must be 32 bytes, base64 or hex encoded (openssl rand -base64 32)' });
    return z.NEVER;
  }
  return bytes;
});

/** Comma-separated list of previous keys, for rotation. */
export const key32List = z
  .string()
  .transform((v, ctx) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => {
        const parsed = key32.safeParse(s);
        if (!parsed.success) {
          ctx.addIssue({ code: 'custom', message: 'each entry must be a 32-byte base64 or hex key' });
          return Buffer.alloc(0);
        }
        return parsed.data;
      }),
  )
  .default([]);

export const commaList = z
  .string()
  .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
  .default([]);

export const booleanFlag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .transform((v) => ['true', '1', 'yes'].includes(v))
    .default(fallback);

/** `*_METRICS_PORT=off` runs no metrics server. */
export const METRICS_OFF = 'off';

/** A metrics port: a port number, 0 for any free port, or `off` (parsed as `null`). */
export const metricsPort = (fallback: number) =>
  z
    .string()
    .default(String(fallback))
    .transform((v, ctx) => {
      if (v.toLowerCase() === METRICS_OFF) return null;
      const parsed = port(fallback).safeParse(v);
      if (parsed.success) return parsed.data;
      ctx.addIssue({ code: 'custom', message: `must be a port number (0-65535) or "${METRICS_OFF}"` });
      return z.NEVER;
    });

/** Prefix of the cluster's Redis names (keys and channels); the same on the API and every gateway. */
export const redisPrefix = (fallback: string) =>
  z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'letters, digits, _ . : - only (at most 64)').default(fallback);
