import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../../..');
const json = (file: string) => JSON.parse(readFileSync(path.join(root, file), 'utf8'));

describe('workspace configuration', () => {
  it('gives the SWC build the same path aliases as the TypeScript compiler', () => {
    expect(json('.swcrc').jsc.paths).toEqual(json('tsconfig.base.json').compilerOptions.paths);
  });
});
