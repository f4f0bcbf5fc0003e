import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { freePort, node22Binary } from '@switchboard/testing';

/**
 * The official suite's authorization-server checks (`conformance authorization --url <issuer>`)
 * against the gateway's built-in authorization server. The suite's `authorization-code-grant`
 * scenario is interactive: it prints an authorization URL for a person to open and waits on a
 * loopback callback server for the redirect. Here `approve` plays the person (Chromium on the
 * consent page), so the run needs nobody.
 *
 * The suite has no requirement set for authorization servers (its requirement files say the MCP
 * specification leaves them out of scope), so every scenario it lists is required here.
 */

function workspaceRoot(from: string): string {
  for (let dir = from; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'node_modules/@modelcontextprotocol/conformance'))) return dir;
  }
  throw new Error('@modelcontextprotocol/conformance is not installed (npm ci)');
}
const SUITE_CLI = path.join(workspaceRoot(__dirname), 'node_modules/@modelcontextprotocol/conformance/dist/index.js');
/** The suite itself waits 5 minutes for the callback; a healthy run needs a few seconds. */
const SUITE_TIMEOUT_MS = 60_000;

export interface AuthorizationCheck {
  id: string;
  status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | 'SKIPPED';
  errorMessage?: string;
}

export interface AuthorizationScenarioResult {
  scenario: string;
  passed: boolean;
  failures: string[];
  warnings: string[];
  skipped: string[];
}

export interface AuthorizationRun {
  /** What `list --authorization` names: all required. */
  listed: string[];
  results: AuthorizationScenarioResult[];
  /** The authorization URL the suite asked a person to open, if it got that far. */
  authorizationUrl: string | undefined;
  output: string;
  durationMs: number;
}

export interface AuthorizationTarget {
  /** The issuer, exactly as the gateway's metadata states it. */
  issuer: string;
  /** RFC 8707 resource: a tenant MCP URL. */
  resource: string;
  /** Registers a public client for the given redirect URI and returns its client_id. */
  registerClient(redirectUri: string): Promise<string>;
  /** The person: signs in at the authorization URL and lets the browser reach the callback. */
  approve(authorizationUrl: string, callbackPrefix: string): Promise<void>;
}

/** Lines `  - <scenario> [versions]` of `list --authorization`. */
export function parseAuthorizationListing(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((line) => /^\s+-\s+(\S+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
}

export async function runAuthorizationConformance(target: AuthorizationTarget): Promise<AuthorizationRun> {
  const listing = await suite(['list', '--authorization']);
  const listed = parseAuthorizationListing(listing);
  const port = await freePort();
  const callback = `http://127.0.0.1:${port}/callback`;
  const clientId = await target.registerClient(callback);
  const outputDir = mkdtempSync(path.join(tmpdir(), 'sb-conformance-authz-'));
  const started = Date.now();
  try {
    const args = ['authorization', '--url', target.issuer, '--client-id', clientId, '--resource', target.resource, '--port', String(port), '-o', outputDir];
    const { output, authorizationUrl } = await runInteractive(args, target.issuer, (url) => target.approve(url, callback));
    return { listed, results: readResults(outputDir), authorizationUrl, output, durationMs: Date.now() - started };
  } finally {
    rmSync(outputDir, { recursive: true, force: true });
  }
}

async function suite(args: string[]): Promise<string> {
  const child = spawn(node22Binary(), [SUITE_CLI, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  const code = await new Promise<number | null>((resolve, reject) => child.on('error', reject).on('close', resolve));
  if (code !== 0) throw new Error(`conformance ${args.join(' ')} exited ${code}`);
  return stdout;
}

/**
 * Runs the suite and, when it prints the authorization URL, hands it to `approve` while the
 * suite waits for its callback. The exit code only says "some check failed": results are read
 * from the output folder.
 */
function runInteractive(args: string[], issuer: string, approve: (url: string) => Promise<void>): Promise<{ output: string; authorizationUrl: string | undefined }> {
  return new Promise((resolve, reject) => {
    const child = spawn(node22Binary(), [SUITE_CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let authorizationUrl: string | undefined;
    let approval: Promise<void> = Promise.resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), SUITE_TIMEOUT_MS);
    child.stderr.on('data', (chunk) => (output += chunk));
    createInterface({ input: child.stdout }).on('line', (line) => {
      output += `${line}\n`;
      if (authorizationUrl === undefined && line.startsWith(`${issuer}/`) && line.includes('response_type=code')) {
        authorizationUrl = line.trim();
        // Without a callback the suite would wait 5 minutes: end it now, keeping the reason (its scenario then did not run).
        approval = approve(authorizationUrl).catch((error: unknown) => {
          output += `\n[harness] sign-in failed: ${String(error)}\n`;
          child.kill('SIGKILL');
        });
      }
    });
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      void approval.then(() => resolve({ output, authorizationUrl }));
    });
  });
}

/** Folders are named authorization-server-<scenario>-<timestamp>, each with a checks.json. */
function readResults(dir: string): AuthorizationScenarioResult[] {
  return readdirSync(dir)
    .filter((name) => existsSync(path.join(dir, name, 'checks.json')))
    .map((name) => {
      const checks = JSON.parse(readFileSync(path.join(dir, name, 'checks.json'), 'utf8')) as AuthorizationCheck[];
      const scenario = name.replace(/^authorization-server-/, '').replace(/-\d{4}-\d\d-\d\dT.*$/, '');
      const describe = (c: AuthorizationCheck) => `${c.id}: ${c.errorMessage ?? ''}`;
      const failures = checks.filter((c) => c.status === 'FAILURE').map(describe);
      // A skipped check did not test anything: it is no pass.
      const skipped = checks.filter((c) => c.status === 'SKIPPED').map(describe);
      const warnings = checks.filter((c) => c.status === 'WARNING').map(describe);
      return { scenario, passed: failures.length === 0 && skipped.length === 0 && checks.length > 0, failures, warnings, skipped };
    })
    .sort((a, b) => a.scenario.localeCompare(b.scenario));
}
