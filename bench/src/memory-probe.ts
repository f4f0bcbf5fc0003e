// Preloaded into each measured server (`node --expose-gc -r memory-probe.js …`), the same for
// the gateway and the baselines. On SIGUSR2 it runs a full GC and prints one line:
//   probe {"memory":{"rss":…,"heapUsed":…,…},"cpu":{"user":…,"system":…},"cpuBeforeGc":{…}}
// RSS alone overstates live memory (the allocator keeps freed pages), so the bench reads both;
// process.cpuUsage() has microsecond resolution where /proc's clock ticks have 10 ms. CPU is
// read on both sides of the forced GC, so a measured window counts neither probe's GC: short
// windows (the cluster's rounds) would otherwise charge tens of milliseconds of it to the load.
const runGc = (globalThis as { gc?: () => void }).gc;

process.on('SIGUSR2', () => {
  const cpuBeforeGc = process.cpuUsage();
  runGc?.();
  runGc?.();
  process.stdout.write(`probe ${JSON.stringify({ memory: process.memoryUsage(), cpu: process.cpuUsage(), cpuBeforeGc })}\n`);
});

export {};
