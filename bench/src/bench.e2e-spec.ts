import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const root = path.resolve(__dirname, '../..');

// Keeps `npm run bench` from rotting: the quick mode runs every measurement briefly against a
// real gateway process and the bare-SDK baselines (v1 for the 2025 transports, v2's
// createMcpHandler for 2026-07-28). It checks the run works, not how fast it is.
describe('npm run bench -- --quick', () => {
  // Every measurement briefly, child benches included (limits, Redis commands): minutes on a busy machine.
  jest.setTimeout(600_000);

  it('measures the gateway beside the baseline and reports every ratio without errors', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(root, 'dist/bench/src/run.js'), '--quick'], {
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
    });
    expect(stdout).toContain('Errors across all load runs: 0.');
    for (const transport of ['sse', 'streamable-http']) expect(stdout).toMatch(new RegExp(`\\| ${transport} \\| 16 \\| \\d+ \\| \\d+ \\| [\\d.]+ \\|`));
    expect(stdout).toMatch(/\| 50 \| [\d.-]+ \/ [\d.-]+ \|/);
    expect(stdout).toMatch(/Cache hit: [\d.]+ µs/);
    expect(stdout).toMatch(/\| sse \| 1 \| cross-node \|/);
    // 2026-07-28: the modern rows against createMcpHandler, and cross-node calls answered where they land.
    expect(stdout).toMatch(/\| 16 \| \d+ \| \d+ \| [\d.]+ \| [\d.]+ \/ [\d.]+ \| [\d.]+ \/ [\d.]+ \|/);
    expect(stdout).toMatch(/\| 2026-07-28 \| 16 \| cross-node \|/);
    expect(stdout).toMatch(/\| no 2026-07-28 call forwarded between nodes \(1 connection\) \| 0 of \d+ cross-node calls \| met \|/);
    // The whole platform (gateway, Redis and the API's usage worker) and the limits bench, as child processes.
    expect(stdout).toMatch(/\| streamable-http \| 8 \| \d+ \| \d+ \| [\d.]+ \| 0 \|/);
    expect(stdout).toMatch(/\| round-robin, one at a time \| \d+ \| \d+ \|/);
    expect(stdout).toContain('### Targets');
  });
});
