import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateApiKey } from '@switchboard/api-keys';
import type { PrismaClient } from '@switchboard/db';
import type { KeyRing } from '@switchboard/secrets';
import { node22Binary } from '@switchboard/testing';
import { startRoundRobinProxy } from '../round-robin-proxy';
import { startGateway } from '../../src/main';

/** The spec versions whose active server scenarios must pass. */
export const CONFORMANCE_SPEC_VERSIONS = ['2025-06-18', '2025-11-25'] as const;
export const CONFORMANCE_TENANT = 'conformance';

/** The workspace root: the nearest folder above this file (in source or dist/) with the suite installed. */
function workspaceRoot(from: string): string {
  for (let dir = from; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'node_modules/@modelcontextprotocol/conformance'))) return dir;
  }
  throw new Error('@modelcontextprotocol/conformance is not installed (npm ci)');
}
const ROOT = workspaceRoot(__dirname);
/** The suite needs Node ≥ 22; this one is a devDependency. */
const SUITE_CLI = path.join(ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js');

/** `active` scenarios must pass; `pending` ones the suite itself does not count yet (informational). */
export type Suite = 'active' | 'pending';

export interface ScenarioResult {
  specVersion: string;
  suite: Suite;
  scenario: string;
  passed: boolean;
  failures: string[];
  warnings: string[];
}

export interface ConformanceRun {
  results: ScenarioResult[];
  /** The suite's console output, for diagnosing failures. */
  output: string;
}

/** Gateways to run the suite against: their URLs (round-robin behind the proxy) and how to stop them. */
export interface ConformanceGateways {
  urls: string[];
  close(): Promise<void>;
}

export interface ConformanceEnvironment {
  /** A migrated database the gateway can use (test Postgres, or the embedded PGlite). */
  env: Record<string, string>;
  prisma: PrismaClient;
  peppers: KeyRing;
  /**
   * Starts the gateways given the variables they need (ALLOWED_ORIGINS names the proxy); by
   * default one gateway in this process with `env`.
   */
  startGateways?: (env: Record<string, string>) => Promise<ConformanceGateways>;
}

/**
 * Seeds a tenant with the conformance plugin and a key, starts a gateway behind the
 * header-adding proxy, and runs the official suite once per spec version.
 */
export async function runConformance(environment: ConformanceEnvironment, specVersions: readonly string[] = CONFORMANCE_SPEC_VERSIONS): Promise<ConformanceRun> {
  const { prisma, peppers } = environment;
  // The suite opens ~60 sessions in seconds and ends none of them: this tenant is exempt from the
  // platform's default session and rate limits (null = unlimited), which have their own tests.
  const tenant = await prisma.tenant.create({
    data: { slug: CONFORMANCE_TENANT, name: 'Conformance', limits: { concurrentSessions: null, requestsPerMinute: null, toolCallsPerMinute: null } },
  });
  await prisma.pluginInstallation.create({ data: { tenantId: tenant.id, plugin: 'conformance' } });
  const key = generateApiKey(peppers);
  await prisma.apiKey.create({
    data: { tenantId: tenant.id, name: 'conformance', publicId: key.publicId, secretHash: key.secretHash, pepperId: key.pepperId, createdBy: 'conformance' },
  });

  let upstreams: string[] = [];
  const proxy = await startRoundRobinProxy(() => upstreams, () => `Bearer ${key.token}`);
  const gateways = await (environment.startGateways ?? startInProcessGateway)({
    ...environment.env,
    GATEWAY_PORT: '0',
    // Never the default 9091: another gateway on this machine may hold it.
    GATEWAY_METRICS_PORT: '0',
    // The suite's own requests come from the proxy's origin; anything else is a rebinding attempt.
    ALLOWED_ORIGINS: `http://localhost:${proxy.port},http://127.0.0.1:${proxy.port}`,
  });
  upstreams = gateways.urls;
  const outputDir = mkdtempSync(path.join(tmpdir(), 'sb-conformance-'));
  let output = '';
  try {
    // localhost, as a user's client on this machine would name it (the rebinding scenarios check Host).
    const url = `http://localhost:${proxy.port}/t/${CONFORMANCE_TENANT}/p/conformance/mcp`;
    const results: ScenarioResult[] = [];
    for (const version of specVersions) {
      for (const suite of ['active', 'pending'] as const) {
        const dir = path.join(outputDir, version, suite);
        output += await runSuite(url, version, suite, dir);
        results.push(...readResults(dir, version, suite));
      }
    }
    return { results, output };
  } finally {
    await gateways.close();
    await proxy.close();
    rmSync(outputDir, { recursive: true, force: true });
  }
}

async function startInProcessGateway(env: Record<string, string>): Promise<ConformanceGateways> {
  const gateway = await startGateway(env);
  return { urls: [gateway.url], close: () => gateway.close() };
}

/** Every server scenario the suite has for a spec version, active and pending (its `list` command). */
export function listServerScenarios(specVersion: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(node22Binary(), [SUITE_CLI, 'list', '--server', '--spec-version', specVersion], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', () => resolve([...output.matchAll(/^\s+- ([a-z0-9-]+)/gm)].map((m) => m[1]).sort()));
  });
}

function runSuite(url: string, specVersion: string, suite: Suite, outputDir: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(node22Binary(), [SUITE_CLI, 'server', '--url', url, '--suite', suite, '--spec-version', specVersion, '-o', outputDir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    // Failures are read from the result files; the exit code only says "some failed".
    child.on('close', () => resolve(output));
  });
}

interface Check {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED';
  errorMessage?: string;
}

/** The suite writes one folder per scenario with a checks.json. */
function readResults(dir: string, specVersion: string, suite: Suite): ScenarioResult[] {
  if (!existsSync(dir)) return [];
  const results: ScenarioResult[] = [];
  for (const file of walk(dir).filter((f) => f.endsWith('checks.json'))) {
    const checks = JSON.parse(readFileSync(file, 'utf8')) as Check[];
    // Folders are named server-<scenario>-<ISO timestamp>.
    const scenario = path.relative(dir, path.dirname(file)).split(path.sep)[0].replace(/^server-/, '').replace(/-\d{4}-\d\d-\d\dT.*$/, '');
    const failures = checks.filter((c) => c.status === 'FAILURE').map((c) => `${c.id}: ${c.errorMessage ?? ''}`);
    const warnings = checks.filter((c) => c.status === 'WARNING').map((c) => `${c.id}: ${c.errorMessage ?? ''}`);
    results.push({ specVersion, suite, scenario, passed: failures.length === 0, failures, warnings });
  }
  return results.sort((a, b) => a.scenario.localeCompare(b.scenario));
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}
