import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The official MCP conformance suite's CLI needs Node ≥ 22. The binary comes from the npm
 * registry's `node-<platform>-<arch>` package, installed on first use into .cache/node22.
 * It is deliberately not a devDependency: its `bin` would put `node` 22 in front of the
 * machine's Node for every npm script, and its os/cpu fields would fail `npm ci` elsewhere.
 */
export const NODE_22_VERSION = '22.23.3';

const ROOT = path.resolve(__dirname, '../../..');
const CACHE = path.join(ROOT, '.cache', 'node22');

export function node22Binary(): string {
  const platform = process.platform === 'win32' ? 'win' : process.platform;
  const pkg = `node-${platform}-${process.arch}`;
  const binary = path.join(CACHE, 'node_modules', pkg, 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
  if (!existsSync(binary)) {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    execFileSync(
      npm,
      ['install', '--prefix', CACHE, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--ignore-scripts', '--no-bin-links', `${pkg}@${NODE_22_VERSION}`],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  }
  return binary;
}
