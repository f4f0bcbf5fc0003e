#!/usr/bin/env node
// Runs `prisma generate`. Prisma 7's generator needs no engine at run time, but its CLI
// checks that a schema engine binary exists; any existing file satisfies the check, and
// generation itself never runs it (see docs/decisions.md).
const { execFileSync } = require('node:child_process');
const path = require('node:path');

const env = { ...process.env };
env.PRISMA_SCHEMA_ENGINE_BINARY ||= process.execPath;
env.PRISMA_HIDE_UPDATE_MESSAGE = '1';
const cli = require.resolve('prisma/build/index.js');
execFileSync(process.execPath, [cli, 'generate'], {
  cwd: path.join(__dirname, '..'),
  env,
  stdio: ['ignore', 'inherit', 'inherit'],
});
