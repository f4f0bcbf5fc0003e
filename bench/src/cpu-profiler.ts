// Preloaded into a measured server by `npm run bench:profile` (NODE_OPTIONS=--require …). The
// first SIGWINCH starts V8's sampling profiler, the next one stops it and writes the profile to
// the path in BENCH_PROFILE_OUT (a numbered file per stop), then prints one line:
//   cpu-profile /path/to/file.cpuprofile
// A signal rather than --cpu-prof, so the profile covers the timed load only, not start-up or
// warm-up; SIGWINCH because Node reserves SIGUSR1 for the debugger and the memory probe uses SIGUSR2.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

/** Sampling interval: 200 µs resolves a call of a few hundred µs into tens of samples. */
const SAMPLING_INTERVAL_US = 200;

const out = process.env['BENCH_PROFILE_OUT'];
const session = new Session();
session.connect();
let running = false;
let stops = 0;

function post(method: string, params?: object): Promise<unknown> {
  return new Promise((resolve, reject) => session.post(method, params ?? {}, (error, result) => (error ? reject(error) : resolve(result))));
}

process.on('SIGWINCH', () => {
  void (async () => {
    if (!running) {
      running = true;
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: SAMPLING_INTERVAL_US });
      await post('Profiler.start');
      process.stdout.write('cpu-profile started\n');
      return;
    }
    running = false;
    const { profile } = (await post('Profiler.stop')) as { profile: unknown };
    const file = `${out ?? `/tmp/bench-${process.pid}`}-${++stops}.cpuprofile`;
    writeFileSync(file, JSON.stringify(profile));
    process.stdout.write(`cpu-profile ${file}\n`);
  })();
});

export {};
