// What an active AsyncLocalStorage costs every `await` in this Node version, in one process:
// the same chain of six awaits timed with no storage, then inside a running one. On Node 20 an
// AsyncLocalStorage works through an async_hooks init hook, and any promise hook turns off V8's
// fast path for await, for every promise in the process. Tracing keeps the active span in one
// (libs/tracing), so this is the part of "tracing on" that no span site shows in a profile.
//   node dist/bench/src/als-cost.js
import { AsyncLocalStorage } from 'node:async_hooks';

const CHAINS = 100_000;
const WARMUP_CHAINS = 20_000;

async function leaf(x: number): Promise<number> {
  await null;
  return x + 1;
}

async function chain(x: number): Promise<number> {
  let sum = 0;
  for (let i = 0; i < 5; i++) sum += await leaf(x);
  return sum;
}

/** CPU µs per chain. */
async function time(chains: number): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < chains; i++) await chain(i);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / chains;
}

async function main(): Promise<void> {
  await time(WARMUP_CHAINS);
  const without = await time(CHAINS);
  const storage = new AsyncLocalStorage<object>();
  const inside = await storage.run({}, async () => {
    await time(WARMUP_CHAINS);
    return time(CHAINS);
  });
  process.stdout.write(
    `Node ${process.version}: CPU per chain of 6 awaits: ${without.toFixed(2)} µs without an AsyncLocalStorage, ` +
      `${inside.toFixed(2)} µs inside one (${(inside / without).toFixed(2)}×, +${((inside - without) / 6).toFixed(2)} µs per await)\n`,
  );
}

void main();
