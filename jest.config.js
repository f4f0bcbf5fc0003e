// One Jest run for the whole workspace. Tiers by file name (see docs/testing.md):
//   *.spec.ts      unit tests, no services
//   *.int-spec.ts  against real Postgres / Redis / PGlite
//   *.e2e-spec.ts  real gateway/API processes driven by the official MCP SDK client
const fs = require('node:fs');
const path = require('node:path');

const swcrc = JSON.parse(fs.readFileSync(path.join(__dirname, '.swcrc'), 'utf8'));
const { paths } = require('./tsconfig.base.json').compilerOptions;
const moduleNameMapper = Object.fromEntries(
  Object.entries(paths).map(([alias, [target]]) => [`^${alias.replace('*', '(.*)')}$`, `<rootDir>/${target.replace('*', '$1')}`]),
);

const ESM_ONLY_PACKAGES = ['jose', 'content-disposition'];

module.exports = {
  rootDir: __dirname,
  testEnvironment: 'node',
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/plugins', '<rootDir>/tools', '<rootDir>/bench'],
  testMatch: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { ...swcrc, swcrc: false, jsc: { ...swcrc.jsc, baseUrl: __dirname } }],
    // Dependencies that ship ES modules only (jose via jwks-rsa, content-disposition via
    // @fastify/static): Node >= 20.19 require()s them natively, Jest's module system does not,
    // so Jest compiles them to CommonJS.
    [`/node_modules/(${ESM_ONLY_PACKAGES.join('|')})/.+\\.js$`]: ['@swc/jest', { swcrc: false, module: { type: 'commonjs' }, jsc: { target: 'es2022' } }],
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY_PACKAGES.join('|')})/)`],
  moduleNameMapper,
  globalSetup: '<rootDir>/libs/testing/src/global-setup.ts',
  testTimeout: 30_000,
  maxWorkers: 2,
};
