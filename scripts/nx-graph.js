#!/usr/bin/env node
// Computes Nx's project graph into .nx/ before ESLint runs. Without a cached graph,
// @nx/enforce-module-boundaries does not fail: it prints a warning and skips every check,
// which on a clean clone (CI) would silently switch module boundaries off.
const { execFileSync } = require('node:child_process');
const path = require('node:path');

execFileSync(process.execPath, [require.resolve('nx/bin/nx.js'), 'show', 'projects'], {
  cwd: path.join(__dirname, '..'),
  env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' },
  stdio: ['ignore', 'ignore', 'inherit'],
});
