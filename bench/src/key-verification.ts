import { ApiKeyResolver } from '@switchboard/api-keys';
import type { BenchWorld } from './seed';

export interface KeyVerificationResult {
  hitMicros: number;
  missMicros: number;
}

const HIT_ITERATIONS = 20_000;
const MISS_ITERATIONS = 300;

/**
 * Cost of resolving a presented key in the gateway's resolver: a cache hit (HMAC + constant-time
 * compare, no I/O) and a miss (the cache entry dropped first, so it reads Postgres).
 */
export async function measureKeyVerification(world: BenchWorld): Promise<KeyVerificationResult> {
  const resolver = new ApiKeyResolver(world.db.prisma, world.peppers, {});
  const check = async () => {
    const result = await resolver.resolve(world.token);
    if (!result.ok) throw new Error(`bench key did not resolve: ${result.reason}`);
  };
  for (let i = 0; i < 1_000; i++) await check();

  let started = process.hrtime.bigint();
  for (let i = 0; i < HIT_ITERATIONS; i++) await check();
  const hitMicros = Number(process.hrtime.bigint() - started) / 1_000 / HIT_ITERATIONS;

  started = process.hrtime.bigint();
  for (let i = 0; i < MISS_ITERATIONS; i++) {
    resolver.invalidateKey(world.keyId);
    await check();
  }
  const missMicros = Number(process.hrtime.bigint() - started) / 1_000 / MISS_ITERATIONS;
  return { hitMicros, missMicros };
}
