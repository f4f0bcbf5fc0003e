/**
 * CPU the limiter costs the gateway per tool call against a real Redis, as the gateway calls it:
 * the POST's request check, the tool call's checks (window, quota, in-flight lease), the release.
 * Run: `npm run bench:limiter-cpu -- [redis-url] [callers]`.
 * Not a test: it prints µs of process CPU (user + system) and Redis commands per call.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { LIMITER_REDIS_OPTIONS, Limiter, type LimitPrincipal } from '@switchboard/limits';
import { driveToolCalls } from './limiter-calls';

const CALLS = 20_000;
const ROUNDS = 5;

interface Case {
  name: string;
  principal: LimitPrincipal;
}

const big = 1_000_000_000;
const cases: Case[] = [
  { name: 'defaults (tenant scope only)', principal: { tenantId: 't-default', keyId: 'k1', tenantLimits: { requestsPerMinute: big, toolCallsPerMinute: big, concurrentToolCalls: big } } },
  {
    name: 'key + tenant scopes + monthly quota',
    principal: {
      tenantId: 't-full',
      keyId: 'k1',
      tenantLimits: { requestsPerMinute: big, toolCallsPerMinute: big, concurrentToolCalls: big, monthlyToolCalls: big },
      keyLimits: { requestsPerMinute: big - 1, toolCallsPerMinute: big - 1, concurrentToolCalls: big - 1 },
    },
  },
  {
    name: 'all unlimited',
    principal: { tenantId: 't-none', keyId: 'k1', tenantLimits: { requestsPerMinute: null, toolCallsPerMinute: null, concurrentToolCalls: null, monthlyToolCalls: null } },
  },
];

async function main(): Promise<void> {
  const url = process.argv[2] ?? 'redis://127.0.0.1:6379';
  const concurrency = Number(process.argv[3] ?? 16);
  const prefix = `sb:bench:${randomBytes(4).toString('hex')}:limits:`;
  const redis = new Redis(url, LIMITER_REDIS_OPTIONS);
  await new Promise((resolve) => redis.once('ready', resolve));
  const limiter = new Limiter({ redis, keyPrefix: prefix });
  let commands = 0;
  const original = redis.sendCommand.bind(redis);
  redis.sendCommand = ((...args: unknown[]) => {
    commands += 1;
    return (original as (...a: unknown[]) => unknown)(...args);
  }) as typeof redis.sendCommand;

  for (const { name, principal } of cases) {
    await driveToolCalls(limiter, principal, 2_000, concurrency); // warm-up: scripts loaded, code optimised
    // Releases may be sent after the call returns: let them go out before counting.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const micros: number[] = [];
    commands = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const cpu = process.cpuUsage();
      await driveToolCalls(limiter, principal, CALLS, concurrency);
      const used = process.cpuUsage(cpu);
      micros.push((used.user + used.system) / CALLS);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    micros.sort((a, b) => a - b);
    const perCall = commands / (CALLS * ROUNDS);
    console.log(`${name}: median ${micros[ROUNDS >> 1].toFixed(1)} µs/call (min ${micros[0].toFixed(1)}), ${perCall.toFixed(2)} Redis commands/call`);
  }

  await limiter.close();
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
}

void main();
