import { readFileSync } from 'node:fs';
import path from 'node:path';

const WORKSPACE = path.resolve(__dirname, '../../..');

/** The entry file of an npm package's bin, run with `node` (no npx: no network at test time). */
export function npmBin(pkg: string): string {
  const dir = path.join(WORKSPACE, 'node_modules', pkg);
  const { bin } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { bin: string | Record<string, string> };
  return path.join(dir, typeof bin === 'string' ? bin : Object.values(bin)[0]);
}

/** Whether a process (or its zombie) still exists. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
