// Preloaded into each measured server (`node --expose-gc -r memory-probe.js …`), the same for
// the gateway and the baseline. On SIGUSR2 it runs a full GC and prints one line:
//   probe {"memory":{"rss":…,"heapUsed":…,"external":…,"arrayBuffers":…},"cpu":{"user":…,"system":…}}
// RSS alone overstates live memory (the allocator keeps freed pages), so the bench reads both;
// process.cpuUsage() has microsecond resolution where /proc's clock ticks have 10 ms.
const runGc = (globalThis as { gc?: () => void }).gc;

process.on('SIGUSR2', () => {
  runGc?.();
  runGc?.();
  process.stdout.write(`probe ${JSON.stringify({ memory: process.memoryUsage(), cpu: process.cpuUsage() })}\n`);
});

export {};
