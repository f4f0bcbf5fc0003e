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
import { parseServerListing, type ScenarioPlan, type UnscoredReason } from './suite-listing';

/**
 * One run of the suite. A revision with a requirement set runs exactly that set, frozen at its
 * release and at its own wire (`--requirements`). 2025-06-18 has no requirement set; its clients
 * still exist, so its stateful wire runs as the suite's active scenarios of that version.
 */
export type ConformanceTarget = { requirements: string } | { specVersion: string };

export const CONFORMANCE_TARGETS: readonly ConformanceTarget[] = [{ requirements: '2026-07-28' }, { requirements: '2025-11-25' }, { specVersion: '2025-06-18' }];
export const CONFORMANCE_TENANT = 'conformance';

export function targetName(target: ConformanceTarget): string {
  return 'requirements' in target ? `${target.requirements} requirements` : `${target.specVersion} active suite`;
}

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

export interface ScenarioResult {
  scenario: string;
  /** Set when the suite runs the scenario only to report it: it never decides conformance. */
  unscored: UnscoredReason | undefined;
  passed: boolean;
  failures: string[];
  warnings: string[];
}

export interface TargetRun {
  target: ConformanceTarget;
  /** What the suite's `list` says this run must run, before it ran. */
  plan: ScenarioPlan;
  results: ScenarioResult[];
  durationMs: number;
}

export interface ConformanceRun {
  runs: TargetRun[];
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
   * Starts the gateways given the variables they need (PUBLIC_GATEWAY_URL names the proxy); by
   * default one gateway in this process with `env`.
   */
  startGateways?: (env: Record<string, string>) => Promise<ConformanceGateways>;
}

/**
 * Seeds a tenant with the conformance plugin and a key, starts the gateways behind the
 * header-adding round-robin proxy, and runs the official suite once per target.
 */
export async function runConformance(environment: ConformanceEnvironment, targets: readonly ConformanceTarget[] = CONFORMANCE_TARGETS): Promise<ConformanceRun> {
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
  // localhost, as a user's client on this machine would name it (the rebinding scenario checks it).
  const publicUrl = `http://localhost:${proxy.port}`;
  const gateways = await (environment.startGateways ?? startInProcessGateway)({
    ...environment.env,
    GATEWAY_PORT: '0',
    // Never the default 9091: another gateway on this machine may hold it.
    GATEWAY_METRICS_PORT: '0',
    // The balancer's address, as a real deployment sets it. Its origin is the only browser origin
    // allowed (no ALLOWED_ORIGINS): the rebinding scenario's same-origin request passes on that
    // alone, and its `Origin: http://evil.example.com` is refused with 403.
    PUBLIC_GATEWAY_URL: publicUrl,
    // The suite leaves its sessions and GET streams open; nothing is in flight once it is done,
    // so stopping need not wait for them (10 s per gateway otherwise).
    SHUTDOWN_GRACE_MS: '0',
  });
  upstreams = gateways.urls;
  const outputDir = mkdtempSync(path.join(tmpdir(), 'sb-conformance-'));
  let output = '';
  try {
    const url = `${publicUrl}/t/${CONFORMANCE_TENANT}/p/conformance/mcp`;
    const runs: TargetRun[] = [];
    for (const [index, target] of targets.entries()) {
      const plan = await planFor(target);
      const dir = path.join(outputDir, String(index));
      const started = Date.now();
      output += await runSuite(url, target, dir);
      runs.push({ target, plan, results: readResults(dir, plan), durationMs: Date.now() - started });
    }
    return { runs, output };
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

function targetArgs(target: ConformanceTarget): string[] {
  return 'requirements' in target ? ['--requirements', target.requirements] : ['--spec-version', target.specVersion];
}

/**
 * What a target must run, from the suite's `list`. For a spec version that is every scenario
 * listed for it: the suite lists pending ones there too, and has none at 2025-06-18; should a
 * bump add one, it shows as listed but not run.
 */
async function planFor(target: ConformanceTarget): Promise<ScenarioPlan> {
  const listing = await suite(['list', '--server', ...targetArgs(target)]);
  if (listing.code !== 0) throw new Error(`conformance list failed for ${targetName(target)}:\n${listing.stderr}`);
  return parseServerListing(listing.stdout);
}

async function runSuite(url: string, target: ConformanceTarget, outputDir: string): Promise<string> {
  const selection = 'requirements' in target ? targetArgs(target) : [...targetArgs(target), '--suite', 'active'];
  // Failures are read from the result files; the exit code only says "some required scenario failed".
  const { stdout, stderr } = await suite(['server', '--url', url, ...selection, '-o', outputDir]);
  return stdout + stderr;
}

/** Runs the suite's CLI with the Node 22 binary. */
function suite(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(node22Binary(), [SUITE_CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface Check {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED';
  errorMessage?: string;
}

/** The suite writes one folder per scenario with a checks.json. */
function readResults(dir: string, plan: ScenarioPlan): ScenarioResult[] {
  if (!existsSync(dir)) return [];
  const results: ScenarioResult[] = [];
  for (const file of walk(dir).filter((f) => f.endsWith('checks.json'))) {
    const checks = JSON.parse(readFileSync(file, 'utf8')) as Check[];
    // Folders are named server-<scenario>-<ISO timestamp>.
    const scenario = path.relative(dir, path.dirname(file)).split(path.sep)[0].replace(/^server-/, '').replace(/-\d{4}-\d\d-\d\dT.*$/, '');
    const failures = checks.filter((c) => c.status === 'FAILURE').map((c) => `${c.id}: ${c.errorMessage ?? ''}`);
    const warnings = checks.filter((c) => c.status === 'WARNING').map((c) => `${c.id}: ${c.errorMessage ?? ''}`);
    const unscored = plan.unscored.find((u) => u.scenario === scenario)?.reason;
    results.push({ scenario, unscored, passed: failures.length === 0, failures, warnings });
  }
  return results.sort((a, b) => a.scenario.localeCompare(b.scenario));
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}

/** The required scenarios of a run that did not run, or ran and failed: what makes it non-conformant. */
export function requiredProblems(run: TargetRun): string[] {
  const ran = new Map(run.results.map((r) => [r.scenario, r]));
  return run.plan.required.flatMap((scenario) => {
    const result = ran.get(scenario);
    if (!result) return [`${scenario}: did not run`];
    return result.passed ? [] : [`${scenario}: ${result.failures.join('; ')}`];
  });
}

/**
 * One line per scenario run (PASS/FAIL, `[not scored: reason]`) with its failed checks, then each
 * run's verdict and duration. Without `verbose`, passing required scenarios, warnings and the
 * failed checks of unscored scenarios are left out.
 */
export function formatReport(run: ConformanceRun, { verbose }: { verbose: boolean }): string {
  const lines: string[] = [];
  for (const targetRun of run.runs) {
    const name = targetName(targetRun.target);
    for (const result of targetRun.results) {
      if (!verbose && result.passed && !result.unscored) continue;
      const mark = result.passed ? 'PASS' : 'FAIL';
      const note = result.unscored ? ` [not scored: ${result.unscored}]` : '';
      const warnings = result.warnings.length ? ` (${result.warnings.length} warning(s))` : '';
      lines.push(`${mark} ${name} ${result.scenario}${note}${warnings}`);
      if (verbose || !result.unscored) lines.push(...result.failures.map((failure) => `       ${failure}`));
      if (verbose) lines.push(...result.warnings.map((warning) => `       warning ${warning}`));
    }
    const scored = targetRun.results.filter((r) => !r.unscored);
    const problems = requiredProblems(targetRun);
    lines.push(
      `${name}: ${targetRun.plan.required.length - problems.length}/${targetRun.plan.required.length} required scenarios passed` +
        `, ${targetRun.results.length - scored.length} not scored, in ${(targetRun.durationMs / 1000).toFixed(1)} s\n`,
    );
  }
  return lines.join('\n');
}
