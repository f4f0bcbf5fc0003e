import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as PgClient } from 'pg';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { accessibilityProblems, createTestDatabase, eventually, freePort, launchBrowser, startApiProcess, testRedisUrl, USAGE_QUEUE_NAME, waitForHttp, type ApiProcess, type TestDatabase } from '@switchboard/testing';

// The web console in Debian's Chromium against the real `npm start` process (API + gateway) on a
// test Postgres database: jest's global setup has built dist/ and dist/console. Everything the
// browser does goes through the console's pages; axe-core checks every page it visits.

const root = path.resolve(__dirname, '../../..');
const screenshots = path.join(root, 'docs/console');
const run = promisify(execFile);

/** What the page.evaluate callbacks read in the browser: this file compiles without the DOM library. */
interface BrowserGlobals {
  localStorage: { length: number };
  sessionStorage: { length: number };
  document: { cookie: string; documentElement: { scrollWidth: number }; activeElement: { textContent: string | null } | null };
  innerWidth: number;
  location: { hash: string };
  navigator: { clipboard: { readText(): Promise<string> } };
}

describe('web console (Chromium, real platform)', () => {
  let database: TestDatabase;
  let dataDir: string;
  let env: Record<string, string>;
  let platform: ChildProcess;
  let output = '';
  let api: string;
  let gateway: string;
  let consoleUrl: string;
  let browser: Browser;
  let context: BrowserContext;
  const cspErrors: string[] = [];

  async function mintToken(...args: string[]): Promise<string> {
    const { stdout } = await run(process.execPath, ['dist/apps/api/src/cli.js', 'token', ...args], { cwd: root, env });
    return stdout.trim().split('\n').pop()!.trim();
  }

  async function openPage(): Promise<Page> {
    const page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) cspErrors.push(message.text());
    });
    await page.goto(consoleUrl);
    return page;
  }

  async function signIn(page: Page, token: string): Promise<void> {
    await page.getByLabel('Admin token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  beforeAll(async () => {
    database = await createTestDatabase('console_e2e');
    dataDir = mkdtempSync(path.join(tmpdir(), 'sb-console-e2e-'));
    // A copy of the build: another test run's global setup rebuilding dist/console cannot empty it under this one.
    cpSync(path.join(root, 'dist/console'), path.join(dataDir, 'console'), { recursive: true });
    const [apiPort, gatewayPort] = await Promise.all([freePort(), freePort()]);
    api = `http://127.0.0.1:${apiPort}`;
    gateway = `http://127.0.0.1:${gatewayPort}`;
    env = {
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      GATEWAY_PORT: String(gatewayPort),
      API_METRICS_PORT: 'off',
      GATEWAY_METRICS_PORT: 'off',
      ADMIN_JWT_SECRET: randomBytes(32).toString('hex'),
      SECRETS_KEY: randomBytes(32).toString('base64'),
      KEY_PEPPER: randomBytes(32).toString('base64'),
      PUBLIC_GATEWAY_URL: gateway,
      CONSOLE_DIR: path.join(dataDir, 'console'),
      LOG_LEVEL: 'warn',
    };
    await run(process.execPath, ['dist/apps/api/src/cli.js', 'migrate'], { cwd: root, env });
    platform = spawn(process.execPath, ['dist/tools/platform/src/main.js'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    platform.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    platform.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await Promise.all([waitForHttp(`${api}/readyz`, { process: platform }), waitForHttp(`${gateway}/healthz`, { process: platform })]);
    consoleUrl = `${api}/console/`;
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // A missing element fails at its step, well inside the test's own timeout (90 s): the bound
    // only rules out a hang, with room for a machine busy with other test files.
    context.setDefaultTimeout(20_000);
    mkdirSync(screenshots, { recursive: true });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    if (platform && platform.exitCode === null) {
      platform.kill('SIGTERM');
      await new Promise((resolve) => platform.once('exit', resolve));
    }
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    // The platform drains its sessions before it exits: on a machine busy with other suites that
    // can pass jest's default 30 s for a hook.
  }, 60_000);

  afterEach(() => {
    expect(cspErrors).toEqual([]);
  });

  it('is announced in the start-up banner and served with a strict CSP, index.html uncached and hashed assets cached for good', async () => {
    const line = output.split('\n').find((text) => text.trimStart().startsWith('Console'));
    expect(line).toContain(consoleUrl);

    const index = await fetch(consoleUrl);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    );
    expect(index.headers.get('cache-control')).toBe('no-store');
    const html = await index.text();
    const script = /src="(\/console\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(api + script);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');

    const bare = await fetch(`${api}/console`, { redirect: 'manual' });
    expect(bare.status).toBeGreaterThanOrEqual(300);
    expect(bare.headers.get('location')).toBe('/console/');
    // The API's own routes are untouched: no console headers on /v1.
    expect((await fetch(`${api}/v1/tenants`)).headers.get('content-security-policy')).toBeNull();
  }, 90_000);

  it('refuses a wrong token with a clear message and keeps no token anywhere', async () => {
    const page = await openPage();
    expect(await accessibilityProblems(page)).toEqual([]);
    await signIn(page, 'not-a-token');
    await page.getByText('This is not an admin token').waitFor();
    const forged = `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from('{"role":"admin"}').toString('base64url')}.c2ln`;
    await signIn(page, forged);
    await page.getByText('The admin API did not accept this token').waitFor();
    expect(await page.getByLabel('Admin token').getAttribute('aria-invalid')).toBe('true');
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(await page.evaluate(() => {
      const { localStorage, sessionStorage, document } = globalThis as unknown as BrowserGlobals;
      return [localStorage.length, sessionStorage.length, document.cookie];
    })).toEqual([0, 0, '']);
    await page.close();
  }, 90_000);

  it('lets a platform admin create a tenant, install and configure plugins through the generated form, issue a key and revoke it', async () => {
    const token = await mintToken();
    const page = await openPage();
    await signIn(page, token);
    await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
    await page.getByText('No tenants yet').waitFor();

    // The API's field errors appear beside the field.
    await page.getByLabel('Slug').fill('Not OK!');
    await page.getByLabel('Name').fill('Acme Inc');
    await page.getByRole('button', { name: 'Create tenant' }).click();
    await page.locator('.field-invalid', { has: page.getByLabel('Slug') }).locator('.field-error').waitFor();
    await page.getByLabel('Slug').fill('acme');
    await page.getByRole('button', { name: 'Create tenant' }).click();
    await page.getByRole('link', { name: 'Acme Inc' }).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshots, 'tenants.png') });

    await page.getByRole('link', { name: 'Acme Inc' }).click();
    await page.getByRole('heading', { name: 'Acme Inc', level: 1 }).waitFor();
    await page.getByText('No API keys yet').waitFor();
    // The page's heading takes the focus, so keyboard and screen-reader users start there.
    expect(await page.evaluate(() => (globalThis as unknown as BrowserGlobals).document.activeElement?.textContent)).toBe('Acme Inc');

    // echo has no settings: install as it is.
    await page.getByRole('button', { name: 'Install echo' }).click();
    await page.getByText('This plugin has no settings.').waitFor();
    await page.getByRole('form', { name: 'Install echo' }).getByRole('button', { name: 'Install plugin' }).click();
    await page.getByRole('button', { name: 'Disable echo' }).waitFor();

    // remote-mcp's form comes from its JSON Schema: a URL, an enum with a default, a secret.
    await page.getByRole('button', { name: 'Install remote-mcp' }).click();
    const form = page.getByRole('form', { name: 'Install remote-mcp' });
    // Named after the plugin by default, as `PUT …/plugins/remote-mcp` without `plugin` would be.
    expect(await form.getByLabel('Installation name').inputValue()).toBe('remote-mcp');
    expect(await form.getByLabel('bearerToken').getAttribute('type')).toBe('password');
    expect(await form.getByLabel('transport').inputValue()).toBe('streamable-http');
    await form.getByLabel('url (required)').fill('not a url');
    await form.getByLabel('bearerToken').fill('upstream-secret');
    expect(await accessibilityProblems(page)).toEqual([]);
    await form.getByRole('button', { name: 'Install plugin' }).click();
    await form.locator('.field-invalid', { has: page.getByLabel('url (required)') }).getByText('Invalid URL').waitFor();
    expect(await form.getByLabel('url (required)').getAttribute('aria-invalid')).toBe('true');
    await form.getByLabel('url (required)').fill('https://upstream.example.test/mcp');
    await form.getByLabel('bearerToken').fill('upstream-secret');
    await form.getByRole('button', { name: 'Install plugin' }).click();
    await page.getByRole('button', { name: 'Disable remote-mcp' }).waitFor();

    // Reopened, the secret is write-only: reported as set, never shown.
    await page.getByRole('button', { name: 'Configure remote-mcp' }).click();
    const reopened = page.getByRole('form', { name: 'remote-mcp settings' });
    expect(await reopened.getByLabel('url (required)').inputValue()).toBe('https://upstream.example.test/mcp');
    expect(await reopened.getByLabel('bearerToken').inputValue()).toBe('');
    await reopened.getByText('it is set; leave empty to keep it').waitFor();
    expect(await page.content()).not.toContain('upstream-secret');
    await page.getByRole('listitem', { name: 'Installation remote-mcp' }).screenshot({ path: path.join(screenshots, 'plugin-settings.png') });
    await page.getByRole('button', { name: 'Configure remote-mcp' }).click();
    await page.getByRole('button', { name: 'Disable remote-mcp' }).click();
    await page.getByRole('button', { name: 'Enable remote-mcp' }).waitFor();

    // Issue a key: the secret and the MCP URL are on the page, once.
    await page.getByLabel('Key name').fill('laptop');
    await page.getByRole('button', { name: 'Issue key' }).click();
    const issued = page.locator('.issued');
    await issued.waitFor();
    const mcpUrl = await issued.locator('.copy-row', { hasText: 'MCP URL (Streamable HTTP)' }).locator('code').textContent();
    expect(mcpUrl).toBe(`${gateway}/t/acme/mcp`);
    const secret = await issued.locator('.copy-row', { hasText: 'Secret' }).locator('code').textContent();
    expect(secret).toMatch(/^sbk_/);
    await issued.getByText('"mcpServers"').first().waitFor();
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: api });
    await issued.getByRole('button', { name: 'Copy MCP URL' }).click();
    await issued.getByText('Copied.').waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as BrowserGlobals).navigator.clipboard.readText())).toBe(mcpUrl);
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByRole('button', { name: 'I have saved it' }).click();
    expect(await page.content()).not.toContain(secret!);
    await page.screenshot({ path: path.join(screenshots, 'tenant.png'), fullPage: true });

    const keyCard = page.locator('.card', { hasText: 'laptop' });
    await keyCard.getByRole('button', { name: 'Revoke' }).click();
    await keyCard.getByRole('button', { name: 'Revoke laptop' }).click();
    await keyCard.getByText('revoked').waitFor();
    // The key really is revoked: the gateway refuses it.
    const refused = await fetch(mcpUrl!, { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' });
    expect(refused.status).toBe(401);

    // Suspend, resume, delete (with confirmation) from the list.
    await page.getByRole('link', { name: 'Tenants' }).first().click();
    const row = page.locator('.card', { hasText: 'acme' });
    await row.getByRole('button', { name: 'Suspend acme' }).click();
    await row.getByText('suspended').waitFor();
    await row.getByRole('button', { name: 'Resume acme' }).click();
    await row.getByText('active').waitFor();
    await page.getByLabel('Slug').fill('doomed');
    await page.getByLabel('Name').fill('Doomed Ltd');
    await page.getByRole('button', { name: 'Create tenant' }).click();
    const doomed = page.locator('.card', { hasText: 'doomed' });
    await doomed.getByRole('button', { name: 'Delete' }).click();
    await doomed.getByRole('button', { name: 'Delete doomed' }).click();
    await page.getByRole('link', { name: 'Doomed Ltd' }).waitFor({ state: 'detached' });

    // At a phone's width nothing is cut off: the page never scrolls sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => {
      const { document, innerWidth } = globalThis as unknown as BrowserGlobals;
      return document.documentElement.scrollWidth <= innerWidth;
    })).toBe(true);
    await page.screenshot({ path: path.join(screenshots, 'tenants-phone.png') });
    await page.close();
  }, 90_000);

  it('installs one plugin twice under two names, each with its own settings and secret headers, and uninstalls with a confirmation', async () => {
    const platformToken = await mintToken();
    const admin = (method: string, route: string, body?: unknown) =>
      fetch(`${api}/v1${route}`, { method, headers: { authorization: `Bearer ${platformToken}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    await admin('POST', '/tenants', { slug: 'multi-co', name: 'Multi Co' });
    const page = await openPage();
    await signIn(page, platformToken);
    await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
    await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).location.hash = '#/tenants/multi-co'));
    await page.getByRole('heading', { name: 'Multi Co', level: 1 }).waitFor();
    await page.getByText('No plugins installed yet').waitFor();

    // A name the API refuses (400 at `name`) appears beside the name field. No upstream is ever
    // contacted: saving only stores the settings, so the loopback URLs need no server.
    await page.getByRole('button', { name: 'Install remote-mcp' }).click();
    let install = page.getByRole('form', { name: 'Install remote-mcp' });
    await install.getByLabel('Installation name').fill('Git_Hub');
    await install.getByLabel('url (required)').fill('http://127.0.0.1:9/github/mcp');
    await install.getByLabel('bearerToken').fill('github-bearer-secret');
    await install.getByRole('button', { name: 'Install plugin' }).click();
    await install.locator('.field-invalid', { has: page.getByLabel('Installation name') }).locator('.field-error').waitFor();
    expect(await install.getByLabel('Installation name').getAttribute('aria-invalid')).toBe('true');
    await install.getByLabel('Installation name').fill('github');
    await install.getByRole('button', { name: 'Install plugin' }).click();
    await page.getByRole('listitem', { name: 'Installation github' }).getByText('enabled').waitFor();

    // Meanwhile another admin installs echo as `linear`: the console's second install under that
    // name gets the API's 409 INSTALLATION_NAME_TAKEN beside the name field.
    expect((await admin('PUT', '/tenants/multi-co/plugins/linear', { plugin: 'echo' })).status).toBe(200);
    await page.getByRole('button', { name: 'Install remote-mcp under another name' }).click();
    install = page.getByRole('form', { name: 'Install remote-mcp' });
    await install.getByLabel('Installation name').fill('linear');
    await install.getByLabel('url (required)').fill('http://127.0.0.1:9/linear/mcp');
    await install.getByRole('button', { name: 'Install plugin' }).click();
    await install.locator('.field-invalid', { has: page.getByLabel('Installation name') }).getByText('already has an installation named "linear" of plugin "echo"').waitFor();

    // Uninstall asks once more; then the name is free for remote-mcp. (Away and back: the list is read again.)
    await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).location.hash = '#/'));
    await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
    await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).location.hash = '#/tenants/multi-co'));
    const echoRow = page.getByRole('listitem', { name: 'Installation linear' });
    await echoRow.getByText('echo', { exact: true }).waitFor();
    await echoRow.getByRole('button', { name: 'Uninstall' }).click();
    await echoRow.getByRole('group', { name: /Uninstall linear\?/ }).waitFor();
    await echoRow.getByRole('button', { name: 'Uninstall linear' }).click();
    await echoRow.waitFor({ state: 'detached' });
    expect((await admin('GET', '/tenants/multi-co/plugins/linear')).status).toBe(404);

    // linear, with a secret header: the API's error for one header appears beside its row.
    await page.getByRole('button', { name: 'Install remote-mcp under another name' }).click();
    install = page.getByRole('form', { name: 'Install remote-mcp' });
    await install.getByLabel('Installation name').fill('linear');
    await install.getByLabel('url (required)').fill('http://127.0.0.1:9/linear/mcp');
    await install.getByRole('button', { name: 'Add to headers' }).click();
    await install.getByLabel('headers 1 name').fill('X-Api-Key');
    await install.getByLabel('headers 1 value').fill('linear-header-secret');
    await install.getByRole('button', { name: 'Add to headers' }).click();
    await install.getByLabel('headers 2 name').fill('Host');
    await install.getByLabel('headers 2 value').fill('evil.example');
    expect(await install.getByLabel('headers 1 value').getAttribute('type')).toBe('password');
    await install.getByRole('button', { name: 'Install plugin' }).click();
    await install.getByRole('group', { name: 'headers 2' }).getByText('Host cannot be configured').waitFor();
    expect(await install.getByLabel('headers 2 name').getAttribute('aria-invalid')).toBe('true');
    expect(await install.getByLabel('headers 1 name').getAttribute('aria-invalid')).toBeNull();
    expect(await accessibilityProblems(page)).toEqual([]);
    await install.getByRole('button', { name: 'Remove headers 2' }).click();
    await install.getByRole('button', { name: 'Install plugin' }).click();
    const linear = page.getByRole('listitem', { name: 'Installation linear' });
    const github = page.getByRole('listitem', { name: 'Installation github' });
    await linear.waitFor();
    await page.getByText('installed as github, linear').waitFor();

    // Each installation shows its own settings: URL, which secret is set, headers write-only.
    await github.getByRole('button', { name: 'Configure github' }).click();
    const githubForm = page.getByRole('form', { name: 'github settings' });
    expect(await githubForm.getByLabel('url (required)').inputValue()).toBe('http://127.0.0.1:9/github/mcp');
    await githubForm.locator('.field', { has: page.getByLabel('bearerToken') }).getByText('it is set').waitFor();
    await githubForm.getByRole('group', { name: 'headers' }).getByText('Secret, write-only: not set.').waitFor();
    await linear.getByRole('button', { name: 'Configure linear' }).click();
    const linearForm = page.getByRole('form', { name: 'linear settings' });
    expect(await linearForm.getByLabel('url (required)').inputValue()).toBe('http://127.0.0.1:9/linear/mcp');
    await linearForm.locator('.field', { has: page.getByLabel('bearerToken') }).getByText('Secret, write-only: not set.').waitFor();
    await linearForm.getByRole('group', { name: 'headers' }).getByText('it is set; rows added here replace all of them').waitFor();
    // Write-only: neither the header's value nor even its name is on the page.
    expect(await linearForm.getByLabel('headers 1 name').count()).toBe(0);
    const content = await page.content();
    for (const secret of ['github-bearer-secret', 'linear-header-secret', 'X-Api-Key']) expect(content).not.toContain(secret);
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.locator('section', { has: page.getByRole('heading', { name: 'Plugins', level: 2 }) }).screenshot({ path: path.join(screenshots, 'plugin-installations.png') });

    // Save writes to the installation whose form it is, and only to it.
    await githubForm.getByLabel('url (required)').fill('http://127.0.0.1:9/github/v2');
    await githubForm.getByRole('button', { name: 'Save settings' }).click();
    await githubForm.waitFor({ state: 'detached' });
    const stored = async (name: string) => (await (await admin('GET', `/tenants/multi-co/plugins/${name}`)).json()) as { plugin: string; config: { url: string }; secrets: Record<string, { set: boolean }> };
    expect(await stored('github')).toMatchObject({ plugin: 'remote-mcp', config: { url: 'http://127.0.0.1:9/github/v2' }, secrets: { bearerToken: { set: true }, headers: { set: false } } });
    expect(await stored('linear')).toMatchObject({ plugin: 'remote-mcp', config: { url: 'http://127.0.0.1:9/linear/mcp' }, secrets: { bearerToken: { set: false }, headers: { set: true } } });
    await linearForm.getByRole('button', { name: 'Save settings' }).click();
    await linearForm.waitFor({ state: 'detached' });
    // Saved without rows, the stored headers stay.
    expect((await stored('linear')).secrets['headers']).toEqual({ set: true });
    await linear.getByRole('button', { name: 'Disable linear' }).click();
    await linear.getByText('disabled').waitFor();
    await github.getByText('enabled').waitFor();

    await linear.getByRole('button', { name: 'Configure linear' }).click();
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => {
      const { document, innerWidth } = globalThis as unknown as BrowserGlobals;
      return document.documentElement.scrollWidth <= innerWidth;
    })).toBe(true);
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.locator('section', { has: page.getByRole('heading', { name: 'Plugins', level: 2 }) }).screenshot({ path: path.join(screenshots, 'plugin-installations-phone.png') });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.close();
  }, 90_000);

  it("issues a key with a tool allowlist chosen from the installations' tools and typed, with the API's errors beside the field", async () => {
    const platformToken = await mintToken();
    const admin = (method: string, route: string, body?: unknown) =>
      fetch(`${api}/v1${route}`, { method, headers: { authorization: `Bearer ${platformToken}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    // multi-co has github and linear (remote-mcp, whose tools the API cannot list); echo declares its tool.
    expect((await admin('PUT', '/tenants/multi-co/plugins/echo', {})).status).toBe(200);
    // What a gateway records once it listed linear's upstream (GET /v1/tenants/{t}/tools shows it as listed).
    const db = new PgClient({ connectionString: database.url });
    await db.connect();
    try {
      await db.query(`UPDATE plugin_installations SET listed_tools = $1, listed_tools_at = now() WHERE name = 'linear' AND tenant_id = (SELECT id FROM tenants WHERE slug = 'multi-co')`, [
        JSON.stringify([{ name: 'list_issues', description: 'Lists issues' }]),
      ]);
    } finally {
      await db.end();
    }
    const page = await openPage();
    await signIn(page, platformToken);
    await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
    await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).location.hash = '#/tenants/multi-co'));
    await page.getByRole('heading', { name: 'Multi Co', level: 1 }).waitFor();

    await page.getByLabel('Key name').fill('scoped');
    await page.getByText('Tools for this key (optional)').click();
    await page.getByRole('checkbox', { name: 'echo__echo' }).check();
    // A listed tool is ticked like a declared one, with when it was seen; github's, never listed, is typed.
    const listed = page.getByRole('checkbox', { name: 'linear__list_issues' });
    expect(await listed.getAttribute('aria-describedby').then((id) => page.locator(`[id="${id}"]`).textContent())).toMatch(/^ ?Lists issues · Listed by linear, seen /);
    const typed = page.getByLabel('Other tools, one a line');
    await typed.fill('github__search\nsearch');
    await page.getByRole('button', { name: 'Issue key' }).click();
    // The API names the entry by position (tools.2); the console names it by the entry.
    await page.locator('.field-invalid', { has: typed }).getByText('search: not a namespaced tool name').waitFor();
    expect(await typed.getAttribute('aria-invalid')).toBe('true');
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.locator('form', { has: page.getByLabel('Key name') }).screenshot({ path: path.join(screenshots, 'key-tools.png') });

    await typed.fill('github__search\nlinear__create_issue');
    await page.getByRole('button', { name: 'Issue key' }).click();
    await page.locator('.issued').waitFor();
    await page.getByRole('button', { name: 'I have saved it' }).click();
    await page.locator('.card', { hasText: 'scoped' }).getByText('tools: echo__echo, github__search, linear__create_issue').waitFor();
    const keys = (await (await admin('GET', '/tenants/multi-co/api-keys')).json()) as { items: { name: string; tools: string[] }[] };
    expect(keys.items.find((key) => key.name === 'scoped')?.tools).toEqual(['echo__echo', 'github__search', 'linear__create_issue']);

    await page.setViewportSize({ width: 390, height: 844 });
    await page.getByText('Tools for this key (optional)').click();
    await page.getByRole('checkbox', { name: 'echo__echo' }).waitFor();
    expect(await page.evaluate(() => {
      const { document, innerWidth } = globalThis as unknown as BrowserGlobals;
      return document.documentElement.scrollWidth <= innerWidth;
    })).toBe(true);
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshots, 'key-tools-phone.png') });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.close();
  }, 90_000);

  it('shows a tenant admin its own tenant and "not found" for another tenant', async () => {
    const platformToken = await mintToken();
    const create = (slug: string) =>
      fetch(`${api}/v1/tenants`, { method: 'POST', headers: { authorization: `Bearer ${platformToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ slug, name: slug }) }).then(
        (response) => response.json() as Promise<{ id: string }>,
      );
    const own = await create('own-co');
    await create('other-co');
    const page = await openPage();
    // By keyboard: the token field has the focus path of a form, Enter submits.
    await page.getByLabel('Admin token').fill(await mintToken('--tenant', own.id));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'own-co', level: 1 }).waitFor();
    expect(await page.getByText('Tenant admin', { exact: true }).count()).toBe(1);

    await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).location.hash = '#/tenants/other-co'));
    await page.getByRole('heading', { name: 'Tenant not found' }).waitFor();
    await page.getByText('Not found.').waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.close();
  }, 90_000);

  it('shows a live SDK session, ends it, and finds its calls in the usage charts and the ending in the audit log', async () => {
    const page = await openPage();
    await signIn(page, await mintToken());
    await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
    await page.getByLabel('Slug').fill('ops-co');
    await page.getByLabel('Name').fill('Ops Co');
    await page.getByRole('button', { name: 'Create tenant' }).click();
    await page.getByRole('link', { name: 'Ops Co' }).click();
    await page.getByRole('heading', { name: 'Ops Co', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Install echo' }).click();
    await page.getByRole('form', { name: 'Install echo' }).getByRole('button', { name: 'Install plugin' }).click();
    await page.getByRole('button', { name: 'Disable echo' }).waitFor();
    await page.getByLabel('Key name').fill('laptop');
    await page.getByRole('button', { name: 'Issue key' }).click();
    const issued = page.locator('.issued');
    const mcpUrl = (await issued.locator('.copy-row', { hasText: 'MCP URL (Streamable HTTP)' }).locator('code').textContent())!;
    const secret = (await issued.locator('.copy-row', { hasText: 'Secret' }).locator('code').textContent())!;
    await page.getByRole('button', { name: 'I have saved it' }).click();

    // An official SDK client (v1, Streamable HTTP) with the key and URL the console showed.
    const client = new Client({ name: 'console-e2e', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { authorization: `Bearer ${secret}` } } }));
    const sessionId = (client.transport as StreamableHTTPClientTransport).sessionId!;
    expect(sessionId).toBeTruthy();
    try {
      for (const text of ['one', 'two', 'three']) {
        const result = await client.callTool({ name: 'echo__echo', arguments: { text } });
        expect(result.isError).toBeFalsy();
      }

      await page.getByRole('link', { name: 'Sessions', exact: true }).click();
      await page.getByRole('heading', { name: 'Sessions: Ops Co', level: 1 }).waitFor();
      const row = page.getByRole('row', { name: new RegExp(sessionId.replace(/[.]/g, '\\.')) });
      await row.waitFor();
      await row.getByText('streamable-http').waitFor();
      await row.getByText('laptop').waitFor();
      expect(await accessibilityProblems(page)).toEqual([]);
      await page.screenshot({ path: path.join(screenshots, 'sessions.png'), fullPage: true });

      // Embedded mode (one process, no Redis): the platform pages read the in-process gateway.
      await page.getByRole('link', { name: 'Cluster nodes' }).click();
      await page.getByRole('heading', { name: 'Cluster nodes', level: 1 }).waitFor();
      await page.getByText('Embedded mode (npm start)').waitFor();
      const nodeRow = page.getByRole('row', { name: /up in this process 1 sessions on / });
      await nodeRow.waitFor();
      expect(await accessibilityProblems(page)).toEqual([]);
      await nodeRow.getByRole('link').click();
      await page.getByRole('row', { name: new RegExp(`^ops-co ${sessionId.replace(/[.]/g, '\\.')}`) }).waitFor();
      await page.goBack();
      await page.goBack();
      await page.getByRole('heading', { name: 'Sessions: Ops Co', level: 1 }).waitFor();

      await row.getByRole('button', { name: 'End' }).click();
      await row.getByRole('button', { name: `End session ${sessionId}` }).click();
      await page.getByText(`Session ${sessionId} ended.`).waitFor();
      // The node closes it within a second of the control event; the registry then forgets it.
      await eventually(async () => {
        await page.getByRole('button', { name: 'Refresh sessions' }).click();
        return (await page.getByText('No live sessions').count()) === 1;
      }, 10_000, 200);
      // The client's next request finds no session: HTTP 404, "Session not found".
      await expect(client.callTool({ name: 'echo__echo', arguments: { text: 'four' } })).rejects.toMatchObject({ code: 404, message: expect.stringContaining('Session not found') });
    } finally {
      await client.close();
    }

    // The three calls appear in the usage charts and the tables, once the usage worker wrote them.
    await page.getByRole('link', { name: 'Usage', exact: true }).click();
    await page.getByRole('heading', { name: 'Usage: Ops Co', level: 1 }).waitFor();
    const totals = page.getByRole('definition').first();
    await eventually(async () => {
      await page.getByRole('button', { name: 'Refresh usage' }).click();
      return (await totals.textContent()) === '3';
    }, 10_000, 200);
    await page.getByRole('row', { name: /^echo 3 0/ }).waitFor();
    const chart = page.getByRole('img', { name: 'Calls per hour', exact: true });
    expect(await chart.getAttribute('aria-describedby')).toBeTruthy();
    expect(await chart.locator('desc').textContent()).toMatch(/^24 bars from .*; highest 3 calls at /);
    await page.getByText('Calls per hour as a table', { exact: true }).click();
    await page.getByRole('row', { name: /3 0$/ }).first().waitFor();
    await page.getByText('Calls per hour as a table', { exact: true }).click();
    // Each plugin over time: the breakdown's series, stacked.
    const perPlugin = page.getByRole('img', { name: 'Calls per hour by plugin', exact: true });
    expect(await perPlugin.locator('desc').textContent()).toMatch(/^24 bars from .*, stacked by 1 series; in all echo 3 calls\.$/);
    await page.getByLabel('Show', { exact: true }).selectOption('errors');
    await page.getByRole('img', { name: 'Errors per hour by plugin', exact: true }).waitFor();
    await page.getByLabel('Show', { exact: true }).selectOption('calls');
    await page.getByLabel('Break down by').selectOption('tool');
    await page.getByRole('row', { name: /^echo\/echo 3 0/ }).waitFor();
    await page.getByRole('list', { name: 'Series of Calls per hour by tool' }).getByText('echo/echo').waitFor();
    await page.getByLabel('Break down by').selectOption('key');
    await page.getByRole('row', { name: /^laptop 3 0/ }).waitFor();
    await page.getByLabel('Time range').selectOption({ label: 'Last 7 days' });
    await page.getByRole('img', { name: 'Calls per day', exact: true }).waitFor();
    await page.getByRole('img', { name: 'Calls per day by API key', exact: true }).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByLabel('Time range').selectOption({ label: 'Last 24 hours' });
    await page.getByRole('img', { name: 'Calls per hour', exact: true }).waitFor();
    await page.screenshot({ path: path.join(screenshots, 'usage.png'), fullPage: true });

    // The audit log: filtered by action, the ending is there with its session id; a bad range is refused beside its field.
    await page.getByRole('link', { name: 'Audit log', exact: true }).click();
    await page.getByRole('heading', { name: 'Audit log: Ops Co', level: 1 }).waitFor();
    await page.getByRole('row', { name: /api-key\.issue/ }).waitFor();
    await page.getByLabel('Action').selectOption('session.terminate');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByRole('row', { name: new RegExp(`session\\.terminate session ${sessionId.replace(/[.]/g, '\\.')}`) }).waitFor();
    // The filtered row is in the unfiltered list too: wait until the others are gone (the filtered page arrived).
    await page.getByRole('row', { name: /api-key\.issue/ }).first().waitFor({ state: 'detached' });
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshots, 'audit.png'), fullPage: true });
    await page.getByLabel('From', { exact: true }).fill('2026-11-02T00:00');
    await page.getByLabel('To', { exact: true }).fill('2026-11-01T00:00');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.locator('.field-invalid', { has: page.getByLabel('To', { exact: true }) }).getByText('must be after from').waitFor();
    expect(await page.getByLabel('To', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await accessibilityProblems(page)).toEqual([]);

    // The platform's audit log has every tenant's events, named by tenant.
    await page.getByRole('link', { name: 'Platform audit log' }).click();
    await page.getByRole('heading', { name: 'Platform audit log', level: 1 }).waitFor();
    await page.getByLabel('Target type').selectOption('session');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByRole('row', { name: new RegExp(`ops-co admin session\\.terminate session ${sessionId.replace(/[.]/g, '\\.')}`) }).waitFor();
    await page.getByRole('row', { name: /tenant\.create/ }).first().waitFor({ state: 'detached' });
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.goBack();
    await page.getByRole('heading', { name: 'Audit log: Ops Co', level: 1 }).waitFor();

    // At a phone's width the tables scroll inside their frame, the page does not.
    await page.getByRole('link', { name: 'Usage', exact: true }).click();
    await page.getByRole('img', { name: 'Calls per hour', exact: true }).waitFor();
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => {
      const { document, innerWidth } = globalThis as unknown as BrowserGlobals;
      return document.documentElement.scrollWidth <= innerWidth;
    })).toBe(true);
    await page.screenshot({ path: path.join(screenshots, 'usage-phone.png') });
    await page.close();
  }, 90_000);

  it("edits a tenant's OAuth settings with field errors beside the fields, lists its clients and revokes a grant", async () => {
    const platformToken = await mintToken();
    const registered = await fetch(`${api}/v1/tenants/ops-co/oauth/clients`, {
      method: 'POST',
      headers: { authorization: `Bearer ${platformToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Notes app', redirectUris: ['https://notes.example.test/callback'] }),
    });
    expect(registered.status).toBe(201);
    const { client } = (await registered.json()) as { client: { id: string; tenantId: string } };
    // What the authorization server writes when a person approves the client on the consent page.
    const db = new PgClient({ connectionString: database.url });
    await db.connect();
    try {
      await db.query(
        `INSERT INTO oauth_grants (id, tenant_id, client_id, subject, email, scopes, resource) VALUES (gen_random_uuid(), $1, $2, 'sso|person-1', 'person@example.com', '{mcp}', $3)`,
        [client.tenantId, client.id, `${gateway}/t/ops-co/mcp`],
      );
    } finally {
      await db.end();
    }

    const page = await openPage();
    await signIn(page, platformToken);
    await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
    await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).location.hash = '#/tenants/ops-co/oauth'));
    await page.getByRole('heading', { name: 'OAuth: Ops Co', level: 1 }).waitFor();
    const form = page.getByRole('form', { name: 'OAuth settings' });
    const ttl = form.getByLabel('Access token lifetime (seconds)');
    await ttl.waitFor();
    await ttl.fill('10');
    await form.getByLabel('Client metadata document hosts').fill('Not A Host');
    await form.getByRole('button', { name: 'Save OAuth settings' }).click();
    await form.locator('.field-invalid', { has: page.getByLabel('Access token lifetime (seconds)') }).locator('.field-error').waitFor();
    await form.locator('.field-invalid', { has: page.getByLabel('Client metadata document hosts') }).getByText(/not a lowercase host name/).waitFor();
    expect(await ttl.getAttribute('aria-invalid')).toBe('true');
    expect(await accessibilityProblems(page)).toEqual([]);
    await ttl.fill('600');
    await form.getByLabel('Client metadata document hosts').fill('notes.example.test');
    await form.getByLabel('Dynamic client registration').setChecked(false);
    await form.getByRole('button', { name: 'Save OAuth settings' }).click();
    await form.getByText('OAuth settings saved.').waitFor();
    const stored = await (await fetch(`${api}/v1/tenants/ops-co/oauth/settings`, { headers: { authorization: `Bearer ${platformToken}` } })).json();
    expect(stored).toMatchObject({ dynamicRegistration: false, accessTokenTtlSeconds: 600, metadataDocumentHosts: ['notes.example.test'] });

    // Registering a confidential client here: a bad redirect URI is named beside its field, then
    // the secret is shown once and the client is listed; only the secret's hash is stored.
    await page.getByRole('button', { name: 'Register a client' }).click();
    const register = page.getByRole('form', { name: 'Register an OAuth client' });
    await register.getByLabel('Client name').fill('Reports server');
    await register.getByLabel('Redirect URIs').fill('http://reports.example.test/callback');
    await register.getByLabel('Client type').selectOption('client_secret_basic');
    await register.getByRole('button', { name: 'Register client' }).click();
    await register.locator('.field-invalid', { has: page.getByLabel('Redirect URIs') }).locator('.field-error').waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await register.getByLabel('Redirect URIs').fill('https://reports.example.test/callback');
    await register.getByRole('button', { name: 'Register client' }).click();
    const issued = page.getByRole('region', { name: 'Client Reports server registered: copy its secret now' });
    const shownSecret = await issued.locator('.copy-row', { hasText: 'Client secret' }).locator('code').textContent();
    expect(shownSecret).toMatch(/^\S{20,}$/);
    await page.getByRole('list', { name: 'OAuth clients' }).locator('.card', { hasText: 'Reports server' }).waitFor();
    await issued.getByRole('button', { name: 'I have saved it' }).click();
    expect(await page.getByText(shownSecret!).count()).toBe(0);
    const listed = JSON.stringify(await (await fetch(`${api}/v1/tenants/ops-co/oauth/clients`, { headers: { authorization: `Bearer ${platformToken}` } })).json());
    expect(listed).toContain('Reports server');
    expect(listed).not.toContain(shownSecret!);

    const clientCard = page.getByRole('list', { name: 'OAuth clients' }).locator('.card', { hasText: 'Notes app' });
    await clientCard.getByText('1 active grant').waitFor();
    const grantCard = page.getByRole('list', { name: 'Grants' }).locator('.card', { hasText: 'person@example.com' });
    await grantCard.getByText('active', { exact: true }).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshots, 'oauth.png'), fullPage: true });
    await grantCard.getByRole('button', { name: 'Revoke' }).click();
    await grantCard.getByRole('button', { name: 'Revoke grant of Notes app' }).click();
    await grantCard.getByText('revoked (admin)').waitFor();
    await clientCard.getByText('0 active grants').waitFor();
    const audit = (await (await fetch(`${api}/v1/tenants/ops-co/audit?action=oauth-grant.revoke`, { headers: { authorization: `Bearer ${platformToken}` } })).json()) as { items: unknown[] };
    expect(audit.items).toHaveLength(1);
    await page.close();
  }, 90_000);

  it('rotates a key with a grace period: the new secret shown once with its snippets, the old key working until it expires', async () => {
    const platformToken = await mintToken();
    const page = await openPage();
    await signIn(page, platformToken);
    await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
    await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).location.hash = '#/tenants/ops-co'));
    await page.getByRole('heading', { name: 'Ops Co', level: 1 }).waitFor();

    // A key with a limit of its own: the API's error appears beside the limit's box first.
    await page.getByLabel('Key name').fill('deploy-bot');
    await page.getByText('Limits for this key (optional)').click();
    const issueForm = page.locator('form', { has: page.getByLabel('Key name') });
    await issueForm.getByLabel('Tool calls per minute', { exact: true }).fill('0');
    await page.getByRole('button', { name: 'Issue key' }).click();
    await issueForm.locator('.field-invalid', { has: page.getByLabel('Tool calls per minute', { exact: true }) }).getByText(/too small/i).waitFor();
    expect(await issueForm.getByLabel('Tool calls per minute', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await accessibilityProblems(page)).toEqual([]);
    await issueForm.getByLabel('Tool calls per minute', { exact: true }).fill('30');
    await page.getByRole('button', { name: 'Issue key' }).click();
    const firstIssue = page.locator('.issued');
    const oldSecret = (await firstIssue.locator('.copy-row', { hasText: 'Secret' }).locator('code').textContent())!;
    await page.getByRole('button', { name: 'I have saved it' }).click();
    const oldCard = page.locator('.card', { hasText: 'deploy-bot' });
    await oldCard.getByText('limits: 30 tool calls/min').waitFor();

    // Rotate: a grace period out of bounds is refused beside its field.
    await oldCard.getByRole('button', { name: 'Rotate' }).click();
    const rotateForm = page.getByRole('form', { name: 'Rotate deploy-bot' });
    await rotateForm.getByLabel('Grace period (seconds)').fill('999999999');
    await rotateForm.getByRole('button', { name: 'Rotate deploy-bot' }).click();
    await rotateForm.locator('.field-invalid', { has: page.getByLabel('Grace period (seconds)') }).getByText(/too big/i).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await rotateForm.getByLabel('Grace period (seconds)').fill('600');
    const before = Date.now();
    await rotateForm.getByRole('button', { name: 'Rotate deploy-bot' }).click();
    const rotated = page.locator('.issued');
    await rotated.getByRole('heading', { name: 'Key deploy-bot rotated: copy the new key now' }).waitFor();
    const after = Date.now();
    const newSecret = (await rotated.locator('.copy-row', { hasText: 'Secret' }).locator('code').textContent())!;
    expect(newSecret).toMatch(/^sbk_/);
    expect(newSecret).not.toBe(oldSecret);
    const mcpUrl = (await rotated.locator('.copy-row', { hasText: 'MCP URL (Streamable HTTP)' }).locator('code').textContent())!;
    expect(mcpUrl).toBe(`${gateway}/t/ops-co/mcp`);
    // The same snippets as on issue, with the new secret in them.
    expect(await rotated.locator('pre').first().textContent()).toContain(newSecret);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: api });
    await rotated.getByRole('button', { name: 'Copy secret' }).click();
    await rotated.getByText('Copied.').waitFor();
    expect(await page.evaluate(() => (globalThis as unknown as BrowserGlobals).navigator.clipboard.readText())).toBe(newSecret);

    // The old key is listed as expiring at the end of the grace period; the new one has its limits.
    const expiring = page.locator('.card', { hasText: 'deploy-bot' }).filter({ hasText: 'expires at' });
    await expiring.waitFor();
    await page.locator('.card', { hasText: 'deploy-bot' }).filter({ hasText: 'rotated' }).getByText('limits: 30 tool calls/min').waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshots, 'key-rotation.png'), fullPage: true });
    const keys = (await (await fetch(`${api}/v1/tenants/ops-co/api-keys?limit=100`, { headers: { authorization: `Bearer ${platformToken}` } })).json()) as {
      items: { name: string; status: string; expiresAt: string | null; rotatedFromId: string | null; limits: unknown }[];
    };
    const oldKey = keys.items.find((key) => key.name === 'deploy-bot' && !key.rotatedFromId)!;
    const newKey = keys.items.find((key) => key.name === 'deploy-bot' && key.rotatedFromId)!;
    expect(oldKey.status).toBe('active');
    expect(Date.parse(oldKey.expiresAt!)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 600_000);
    expect(Date.parse(oldKey.expiresAt!)).toBeLessThanOrEqual(after + 600_000);
    expect(newKey.limits).toEqual({ toolCallsPerMinute: 30 });
    // During the grace period both secrets open a session at the gateway.
    for (const secret of [oldSecret, newSecret]) {
      const client = new Client({ name: 'console-e2e-rotation', version: '1.0.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { authorization: `Bearer ${secret}` } } }));
      await client.close();
    }
    await page.getByRole('button', { name: 'I have saved it' }).click();
    expect(await page.content()).not.toContain(newSecret);
    await page.close();
  }, 90_000);

  it("edits a tenant's limits with the API's field errors beside the fields; a tenant admin reads them and cannot change them", async () => {
    const platformToken = await mintToken();
    const page = await openPage();
    await signIn(page, platformToken);
    await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
    await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).location.hash = '#/tenants/ops-co'));
    await page.getByRole('link', { name: 'Limits', exact: true }).click();
    await page.getByRole('heading', { name: 'Limits: Ops Co', level: 1 }).waitFor();
    const form = page.getByRole('form', { name: 'Tenant limits' });
    await form.getByLabel('Tool calls per minute', { exact: true }).fill('1.5');
    await form.getByLabel('Tool calls per month (UTC)', { exact: true }).fill('0');
    await form.getByRole('button', { name: 'Save limits' }).click();
    await form.locator('.field-invalid', { has: page.getByLabel('Tool calls per minute', { exact: true }) }).locator('.field-error').waitFor();
    await form.locator('.field-invalid', { has: page.getByLabel('Tool calls per month (UTC)', { exact: true }) }).getByText(/too small/i).waitFor();
    expect(await form.getByLabel('Tool calls per minute', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await accessibilityProblems(page)).toEqual([]);
    expect(((await (await fetch(`${api}/v1/tenants/ops-co`, { headers: { authorization: `Bearer ${platformToken}` } })).json()) as { limits: unknown }).limits).toEqual({});

    await form.getByLabel('Tool calls per minute', { exact: true }).fill('120');
    await form.getByLabel('Tool calls per month (UTC)', { exact: true }).fill('50000');
    await form.getByLabel('No limit on open sessions at once').check();
    expect(await form.getByLabel('Open sessions at once', { exact: true }).isDisabled()).toBe(true);
    await form.getByRole('button', { name: 'Save limits' }).click();
    await form.getByText('Limits saved.').waitFor();
    const stored = (await (await fetch(`${api}/v1/tenants/ops-co`, { headers: { authorization: `Bearer ${platformToken}` } })).json()) as { limits: unknown };
    expect(stored.limits).toEqual({ toolCallsPerMinute: 120, monthlyToolCalls: 50000, concurrentSessions: null });
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshots, 'limits.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => {
      const { document, innerWidth } = globalThis as unknown as BrowserGlobals;
      return document.documentElement.scrollWidth <= innerWidth;
    })).toBe(true);
    await page.screenshot({ path: path.join(screenshots, 'limits-phone.png'), fullPage: true });
    await page.close();

    // A tenant admin: its own limits as a table, no form; the API refuses a change, and another tenant's key is not theirs to rotate.
    const own = (await (await fetch(`${api}/v1/tenants/own-co`, { headers: { authorization: `Bearer ${platformToken}` } })).json()) as { id: string };
    const tenantToken = await mintToken('--tenant', own.id);
    const tenantPage = await openPage();
    await signIn(tenantPage, tenantToken);
    await tenantPage.getByRole('heading', { name: 'own-co', level: 1 }).waitFor();
    await tenantPage.getByRole('link', { name: 'Limits', exact: true }).click();
    await tenantPage.getByRole('heading', { name: 'Limits: own-co', level: 1 }).waitFor();
    await tenantPage.getByRole('row', { name: 'Tool calls per minute platform default' }).waitFor();
    expect(await tenantPage.getByRole('form', { name: 'Tenant limits' }).count()).toBe(0);
    expect(await accessibilityProblems(tenantPage)).toEqual([]);
    await tenantPage.evaluate(() => ((globalThis as unknown as BrowserGlobals).location.hash = '#/tenants/ops-co/limits'));
    await tenantPage.getByRole('heading', { name: 'Tenant not found' }).waitFor();
    await tenantPage.close();
    const patch = (tenant: string) =>
      fetch(`${api}/v1/tenants/${tenant}`, { method: 'PATCH', headers: { authorization: `Bearer ${tenantToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ limits: { toolCallsPerMinute: 1_000_000 } }) });
    expect((await patch('own-co')).status).toBe(403);
    expect((await patch('ops-co')).status).toBe(403);
    const opsKeys = (await (await fetch(`${api}/v1/tenants/ops-co/api-keys`, { headers: { authorization: `Bearer ${platformToken}` } })).json()) as { items: { id: string }[] };
    const rotate = await fetch(`${api}/v1/tenants/ops-co/api-keys/${opsKeys.items[0].id}/rotate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenantToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ gracePeriodSeconds: 60 }),
    });
    expect(rotate.status).toBe(404);
    expect(((await (await fetch(`${api}/v1/tenants/ops-co`, { headers: { authorization: `Bearer ${platformToken}` } })).json()) as { limits: unknown }).limits).toEqual(stored.limits);
  }, 90_000);

  it('lets a platform admin create, edit and delete a server template with field errors beside the fields; a tenant admin finds no such page', async () => {
    const platformToken = await mintToken();
    const page = await openPage();
    await signIn(page, platformToken);
    await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Server templates' }).click();
    await page.getByRole('heading', { name: 'Server templates', level: 1 }).waitFor();
    await page.getByText('No server templates yet').waitFor();

    const form = page.getByRole('form', { name: 'New server template' });
    await form.getByLabel('Template name').fill('Notes Server');
    await form.getByLabel('Command').fill('/usr/bin/node');
    await form.getByLabel('Arguments').fill('/opt/notes/index.js\n--stdio');
    await form.getByRole('button', { name: 'Add variable' }).click();
    await form.getByLabel('Variable 1 name').fill('PATH');
    await form.getByRole('button', { name: 'Create template' }).click();
    await form.locator('.field-invalid', { has: page.getByLabel('Template name') }).locator('.field-error').getByText(/kebab case/).waitFor();
    await form.locator('.field-invalid', { has: page.getByLabel('Variable 1 name') }).getByText(/PATH is reserved/).waitFor();
    expect(await form.getByLabel('Variable 1 name').getAttribute('aria-invalid')).toBe('true');
    expect(await accessibilityProblems(page)).toEqual([]);

    await form.getByLabel('Template name').fill('notes-server');
    await form.getByLabel('Description', { exact: true }).fill('Notes over stdio');
    await form.getByLabel('Variable 1 name').fill('NOTES_TOKEN');
    await form.getByLabel('Variable 1 description').fill('API token of the notes service');
    await form.getByLabel('Required (variable 1)').check();
    await form.getByLabel('Secret (variable 1)').check();
    await form.getByRole('button', { name: 'Add variable' }).click();
    await form.getByLabel('Variable 2 name').fill('STATE_FILE');
    await form.getByLabel('Variable 2 fixed value').fill('{home}/state.json');
    await form.getByRole('button', { name: 'Create template' }).click();
    await page.getByText('Template notes-server created.').waitFor();
    const card = page.getByRole('list', { name: 'Server templates' }).locator('.card', { hasText: 'notes-server' });
    await card.getByText('/usr/bin/node /opt/notes/index.js --stdio').waitFor();
    await card.getByText('NOTES_TOKEN (secret) (required), STATE_FILE (fixed)').waitFor();
    const stored = await (await fetch(`${api}/v1/server-templates/notes-server`, { headers: { authorization: `Bearer ${platformToken}` } })).json();
    expect(stored).toMatchObject({
      description: 'Notes over stdio',
      args: ['/opt/notes/index.js', '--stdio'],
      env: [
        { name: 'NOTES_TOKEN', description: 'API token of the notes service', required: true, secret: true },
        { name: 'STATE_FILE', value: '{home}/state.json', required: false, secret: false },
      ],
      defaultMode: 'isolated',
    });
    // Tenants see it in the catalog, with the secret variable write-only.
    const catalog = (await (await fetch(`${api}/v1/plugins`, { headers: { authorization: `Bearer ${platformToken}` } })).json()) as { items: { name: string; kind: string; secretFields: string[] }[] };
    expect(catalog.items.find((entry) => entry.name === 'notes-server')).toMatchObject({ kind: 'server-template', secretFields: ['NOTES_TOKEN'] });
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshots, 'server-templates.png'), fullPage: true });

    // Edit: a fixed value on a secret variable is refused beside that value.
    await card.getByRole('button', { name: 'Edit notes-server' }).click();
    const edit = page.getByRole('form', { name: 'Edit notes-server' });
    expect(await edit.getByLabel('Variable 2 fixed value').inputValue()).toBe('{home}/state.json');
    await edit.getByLabel('Default mode').selectOption('shared');
    await edit.getByLabel('Secret (variable 2)').check();
    await edit.getByRole('button', { name: 'Save notes-server' }).click();
    await edit.locator('.field-invalid', { has: page.getByLabel('Variable 2 fixed value') }).getByText(/neither secret nor required/).waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await edit.getByLabel('Secret (variable 2)').uncheck();
    await edit.getByRole('button', { name: 'Save notes-server' }).click();
    await page.getByText('Template notes-server saved.').waitFor();
    await card.getByText('shared').waitFor();
    expect(((await (await fetch(`${api}/v1/server-templates/notes-server`, { headers: { authorization: `Bearer ${platformToken}` } })).json()) as { defaultMode: string }).defaultMode).toBe('shared');

    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => {
      const { document, innerWidth } = globalThis as unknown as BrowserGlobals;
      return document.documentElement.scrollWidth <= innerWidth;
    })).toBe(true);
    await page.setViewportSize({ width: 1280, height: 900 });

    await card.getByRole('button', { name: 'Delete' }).click();
    await card.getByRole('button', { name: 'Delete notes-server' }).click();
    await page.getByText('Template notes-server deleted.').waitFor();
    await page.getByText('No server templates yet').waitFor();
    await page.close();

    // A tenant admin: the API refuses, the console has no such page.
    const own = (await (
      await fetch(`${api}/v1/tenants`, { method: 'POST', headers: { authorization: `Bearer ${platformToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ slug: 'tpl-co', name: 'tpl-co' }) })
    ).json()) as { id: string };
    const tenantToken = await mintToken('--tenant', own.id);
    const create = await fetch(`${api}/v1/server-templates`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tenantToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'evil', command: '/bin/sh' }),
    });
    expect(create.status).toBe(403);
    expect((await fetch(`${api}/v1/server-templates`, { headers: { authorization: `Bearer ${tenantToken}` } })).status).toBe(403);
    const tenantPage = await openPage();
    await signIn(tenantPage, tenantToken);
    await tenantPage.getByRole('heading', { name: 'tpl-co', level: 1 }).waitFor();
    await tenantPage.evaluate(() => ((globalThis as unknown as BrowserGlobals).location.hash = '#/templates'));
    await tenantPage.getByRole('heading', { name: 'Page not found', level: 1 }).waitFor();
    expect(await tenantPage.getByRole('form').count()).toBe(0);
    expect(await accessibilityProblems(tenantPage)).toEqual([]);
    await tenantPage.close();
  }, 90_000);

  it('lets a tenant admin curate a virtual server from two tools, rename one, see its URL, and an SDK client there lists exactly those tools', async () => {
    const platformToken = await mintToken();
    const admin = (method: string, route: string, body?: unknown, token = platformToken) =>
      fetch(`${api}/v1${route}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    // ops-co has echo; notes adds a second plugin's tools.
    expect((await admin('PUT', '/tenants/ops-co/plugins/notes', { config: {} })).status).toBe(200);
    const ops = (await (await admin('GET', '/tenants/ops-co')).json()) as { id: string };
    const tenantToken = await mintToken('--tenant', ops.id);
    const page = await openPage();
    await signIn(page, tenantToken);
    await page.getByRole('heading', { name: 'Ops Co', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Virtual servers', exact: true }).click();
    await page.getByRole('heading', { name: 'Virtual servers: Ops Co', level: 1 }).waitFor();
    await page.getByText('No virtual servers yet').waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);

    // The API's errors appear beside their fields: a malformed name, a typed tool that is no namespaced name.
    await page.getByRole('button', { name: 'New virtual server' }).click();
    const form = page.getByRole('form', { name: 'New virtual server' });
    await form.getByLabel('Server name').fill('Support Desk');
    await form.getByLabel('Description', { exact: true }).fill('What the support desk may use');
    await form.getByRole('checkbox', { name: 'echo__echo' }).check();
    await form.getByRole('checkbox', { name: 'notes__add' }).check();
    await form.getByLabel('Name for clients (echo__echo)').fill('say');
    await form.getByLabel('Description for clients (echo__echo)').fill('Says the text back');
    await form.getByRole('button', { name: 'Add a tool by name' }).click();
    await form.getByLabel('Tool (other tool 1)').fill('search');
    await form.getByRole('button', { name: 'Create virtual server' }).click();
    await form.locator('.field-invalid', { has: page.getByLabel('Server name') }).locator('.field-error').waitFor();
    await form.locator('.field-invalid', { has: page.getByLabel('Tool (other tool 1)') }).getByText('not a namespaced tool name').waitFor();
    expect(await form.getByLabel('Tool (other tool 1)').getAttribute('aria-invalid')).toBe('true');
    expect(await form.getByLabel('Name for clients (echo__echo)').getAttribute('aria-invalid')).toBeNull();
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.locator('.editor').screenshot({ path: path.join(screenshots, 'virtual-server-form.png') });

    await form.getByLabel('Server name').fill('support');
    await form.getByRole('button', { name: 'Remove other tool 1' }).click();
    await form.getByRole('button', { name: 'Create virtual server' }).click();
    await page.getByText('Virtual server support created.').waitFor();
    const row = page.getByRole('row', { name: /^support / });
    await row.getByText('← echo__echo').waitFor();
    expect(await row.locator('li').allTextContents()).toEqual(['say ← echo__echo (description overridden)', 'add ← notes__add']);
    // Its URLs come from the API (PUBLIC_GATEWAY_URL), with a copy button.
    await row.getByText(`${gateway}/t/ops-co/v/support/mcp`, { exact: true }).waitFor();
    await row.getByText(`${gateway}/t/ops-co/v/support/sse`, { exact: true }).waitFor();
    await row.getByRole('button', { name: 'Copy MCP URL' }).waitFor();

    // Edit: rename the second tool; the whole server is replaced (PUT).
    await row.getByRole('button', { name: 'Edit support' }).click();
    const edit = page.getByRole('form', { name: 'Edit support' });
    expect(await edit.getByLabel('Name for clients (echo__echo)').inputValue()).toBe('say');
    expect(await edit.getByLabel('Name for clients (notes__add)').inputValue()).toBe('');
    await edit.getByLabel('Name for clients (notes__add)').fill('say');
    await edit.getByRole('button', { name: 'Save support' }).click();
    // Two tools under one name: the API names the second entry, shown beside that tool's name.
    await edit.locator('.field-invalid', { has: page.getByLabel('Name for clients (notes__add)') }).getByText('is already the name of tools.0').waitFor();
    await edit.getByLabel('Name for clients (notes__add)').fill('add_note');
    await edit.getByRole('button', { name: 'Save support' }).click();
    await page.getByText('Virtual server support saved.').waitFor();
    await row.getByText('add_note').waitFor();
    expect(((await (await admin('GET', '/tenants/ops-co/virtual-servers/support')).json()) as { tools: unknown }).tools).toEqual([
      { source: 'echo__echo', name: 'say', description: 'Says the text back' },
      { source: 'notes__add', name: 'add_note' },
    ]);
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshots, 'virtual-servers.png'), fullPage: true });

    // A key for this server: the issue shows the server's full URL and snippets, once.
    await row.getByRole('button', { name: 'Issue key for support' }).click();
    await page.getByRole('form', { name: 'Issue a key for support' }).getByRole('button', { name: 'Issue key for support' }).click();
    const issued = page.locator('.issued');
    const mcpUrl = (await issued.locator('.copy-row', { hasText: 'MCP URL (Streamable HTTP)' }).locator('code').textContent())!;
    expect(mcpUrl).toBe(`${gateway}/t/ops-co/v/support/mcp`);
    const secret = (await issued.locator('.copy-row', { hasText: 'Secret' }).locator('code').textContent())!;
    expect(await issued.locator('pre').first().textContent()).toContain('/t/ops-co/v/support/mcp');
    expect(await accessibilityProblems(page)).toEqual([]);

    const client = new Client({ name: 'console-e2e-virtual', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { requestInit: { headers: { authorization: `Bearer ${secret}` } } }));
    try {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name).sort()).toEqual(['add_note', 'say']);
      expect(tools.find((tool) => tool.name === 'say')?.description).toBe('Says the text back');
      expect((await client.callTool({ name: 'say', arguments: { text: 'curated' } })).isError).toBeFalsy();
      // The source name is not on the server, in any form.
      const old = await client.callTool({ name: 'echo__echo', arguments: { text: 'sneak' } }).then(
        (result) => (result.isError ? 'refused' : 'served'),
        () => 'refused',
      );
      expect(old).toBe('refused');
    } finally {
      await client.close();
    }
    // A key restricted to the server is refused on the tenant-wide URL.
    const wide = await fetch(`${gateway}/t/ops-co/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }),
    });
    expect(wide.status).toBe(403);
    await page.getByRole('button', { name: 'I have saved it' }).click();
    expect(await page.content()).not.toContain(secret);

    // Delete asks once more; the other server stays.
    expect((await admin('POST', '/tenants/ops-co/virtual-servers', { name: 'scratch', tools: [{ source: 'echo__echo' }] }, tenantToken)).status).toBe(201);
    await page.getByRole('button', { name: 'Refresh virtual servers' }).click();
    const scratch = page.getByRole('row', { name: /^scratch / });
    await scratch.getByRole('button', { name: 'Delete' }).click();
    await scratch.getByRole('group', { name: /Delete scratch\?/ }).waitFor();
    await scratch.getByRole('button', { name: 'Delete scratch' }).click();
    await page.getByText('Virtual server scratch deleted.').waitFor();
    await scratch.waitFor({ state: 'detached' });
    expect((await admin('GET', '/tenants/ops-co/virtual-servers/scratch')).status).toBe(404);
    await row.waitFor();

    await row.getByRole('button', { name: 'Edit support' }).click();
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => {
      const { document, innerWidth } = globalThis as unknown as BrowserGlobals;
      return document.documentElement.scrollWidth <= innerWidth;
    })).toBe(true);
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshots, 'virtual-servers-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.close();
  }, 90_000);

  it("shows an OAuth remote-mcp installation's upstream account as not connected, and Connect opens the gateway's connect page", async () => {
    const platformToken = await mintToken();
    const installed = await fetch(`${api}/v1/tenants/ops-co/plugins/crm`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${platformToken}`, 'content-type': 'application/json' },
      // Never reached: the connect page's discovery fails, which is as far as this test goes.
      body: JSON.stringify({ plugin: 'remote-mcp', config: { url: 'http://127.0.0.1:9/crm/mcp', auth: 'oauth' } }),
    });
    expect(installed.status).toBe(200);
    const ops = (await (await fetch(`${api}/v1/tenants/ops-co`, { headers: { authorization: `Bearer ${platformToken}` } })).json()) as { id: string };
    const page = await openPage();
    await signIn(page, await mintToken('--tenant', ops.id));
    await page.getByRole('heading', { name: 'Ops Co', level: 1 }).waitFor();
    const account = page.getByRole('group', { name: 'Upstream account of crm' });
    await account.locator('.badge', { hasText: 'not connected' }).waitFor();
    // Only OAuth installations have one: echo and notes show no upstream account.
    expect(await page.getByRole('group', { name: /^Upstream account of / }).count()).toBe(1);
    expect(await account.getByRole('button', { name: 'Disconnect' }).count()).toBe(0);
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByRole('listitem', { name: 'Installation crm' }).screenshot({ path: path.join(screenshots, 'upstream-connection.png') });

    const opened = context.waitForEvent('page');
    await account.getByRole('button', { name: 'Connect upstream crm' }).click();
    const connectPage = await opened;
    await connectPage.waitForLoadState();
    expect(connectPage.url()).toMatch(new RegExp(`^${gateway.replace(/[.]/g, '\\.')}/oauth/upstream/connect\\?ticket=[^&]+$`));
    // The gateway took the ticket and tried the upstream's discovery: its own page says the upstream cannot be reached.
    await connectPage.getByRole('heading', { name: 'The upstream cannot be connected', level: 1 }).waitFor();
    await connectPage.close();
    await account.getByRole('link', { name: 'open the connect page' }).waitFor();

    // The connect is pending until the upstream's sign-in completes; Disconnect forgets it.
    await account.getByRole('button', { name: 'Check again crm' }).click();
    await account.locator('.badge', { hasText: 'connect pending' }).waitFor();
    await account.getByRole('button', { name: 'Disconnect' }).click();
    await account.getByRole('button', { name: 'Disconnect crm' }).click();
    await account.locator('.badge', { hasText: 'not connected' }).waitFor();
    const view = (await (await fetch(`${api}/v1/tenants/ops-co/plugins/crm/upstream-connection`, { headers: { authorization: `Bearer ${platformToken}` } })).json()) as { status: string };
    expect(view.status).toBe('not_connected');
    const audit = (await (await fetch(`${api}/v1/tenants/ops-co/audit?action=upstream-connection.start`, { headers: { authorization: `Bearer ${platformToken}` } })).json()) as { items: unknown[] };
    expect(audit.items).toHaveLength(1);

    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => {
      const { document, innerWidth } = globalThis as unknown as BrowserGlobals;
      return document.documentElement.scrollWidth <= innerWidth;
    })).toBe(true);
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.close();
  }, 90_000);

  it("lists the people connected to a per-user installation's upstream and forgets one", async () => {
    const platformToken = await mintToken();
    const admin = (method: string, route: string, body?: unknown) =>
      fetch(`${api}/v1/tenants/ops-co/${route}`, { method, headers: { authorization: `Bearer ${platformToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body: body === undefined ? undefined : JSON.stringify(body) });
    const installed = await admin('PUT', 'plugins/crm-mine', {
      plugin: 'remote-mcp',
      // Never reached: the people's rows below are written as the gateway's connect callback would.
      config: { url: 'http://127.0.0.1:9/crm/mcp', auth: 'oauth', oauthMode: 'per-user', declaredTools: [{ name: 'search', description: 'Search the CRM' }] },
    });
    expect(installed.status).toBe(200);
    const key = ((await (await admin('POST', 'api-keys', { name: 'field-laptop' })).json()) as { key: { id: string } }).key;
    const db = new PgClient({ connectionString: database.url });
    await db.connect();
    try {
      const row = await db.query<{ id: string; tenant_id: string }>(`SELECT id, tenant_id FROM plugin_installations WHERE name = 'crm-mine'`);
      const { id, tenant_id: tenantId } = row.rows[0]!;
      await db.query(
        `INSERT INTO upstream_credentials (id, tenant_id, installation_id, subject, status, expires_at, connected_at, last_error, updated_at) VALUES
           (gen_random_uuid(), $1, $2, $3, 'connected', now() + interval '1 hour', now(), NULL, now()),
           (gen_random_uuid(), $1, $2, 'sso:https://idp.example.test#ada', 'needs_reconnect', NULL, now(), 'the upstream refused the refresh (invalid_grant)', now())`,
        [tenantId, id, `key:${key.id}`],
      );
    } finally {
      await db.end();
    }

    const page = await openPage();
    await signIn(page, platformToken);
    await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).location.hash = '#/tenants/ops-co'));
    await page.getByRole('heading', { name: 'Ops Co', level: 1 }).waitFor();
    const people = page.getByRole('group', { name: 'Upstream accounts of crm-mine' });
    const laptop = people.getByRole('listitem').filter({ hasText: 'signed in with API key field-laptop' });
    await laptop.locator('.badge', { hasText: 'connected' }).waitFor();
    const ada = people.getByRole('listitem').filter({ hasText: 'https://idp.example.test#ada' });
    await ada.locator('.badge', { hasText: 'needs reconnect' }).waitFor();
    await ada.getByText(/It failed: the upstream refused the refresh \(invalid_grant\)\. Their next call gives them a new link\./).waitFor();
    // Nothing to connect here: each person connects from their own link.
    expect(await people.getByRole('button', { name: /Connect upstream/ }).count()).toBe(0);
    expect(await accessibilityProblems(page)).toEqual([]);

    await ada.getByRole('button', { name: 'Forget' }).click();
    await ada.getByRole('button', { name: 'Forget https://idp.example.test#ada' }).click();
    await ada.waitFor({ state: 'detached' });
    const listed = (await (await admin('GET', 'plugins/crm-mine/upstream-connection/people')).json()) as { items: { subject: string }[] };
    expect(listed.items.map((item) => item.subject)).toEqual([`key:${key.id}`]);
    expect(await laptop.count()).toBe(1);
    expect((await admin('DELETE', 'plugins/crm-mine')).status).toBe(204);
    await page.close();
  }, 90_000);

  it("does not show a tenant admin another tenant's sessions, usage, audit log, OAuth, virtual servers or upstream accounts", async () => {
    const platformToken = await mintToken();
    const own = (await (await fetch(`${api}/v1/tenants/own-co`, { headers: { authorization: `Bearer ${platformToken}` } })).json()) as { id: string };
    const token = await mintToken('--tenant', own.id);
    for (const route of ['sessions', 'usage?from=2026-11-01&to=2026-11-02', 'audit', 'oauth/grants', 'oauth/clients', 'oauth/settings', 'virtual-servers', 'virtual-servers/support', 'plugins/crm/upstream-connection', 'tools']) {
      expect((await fetch(`${api}/v1/tenants/ops-co/${route}`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(404);
    }
    // Nor change them: another tenant's server and upstream account are the same 404 as none.
    const write = (method: string, route: string, body?: unknown) =>
      fetch(`${api}/v1/tenants/ops-co/${route}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    expect((await write('PUT', 'virtual-servers/support', { tools: [] })).status).toBe(404);
    expect((await write('DELETE', 'virtual-servers/support')).status).toBe(404);
    expect((await write('POST', 'virtual-servers', { name: 'mine', tools: [{ source: 'echo__echo' }] })).status).toBe(404);
    expect((await write('POST', 'plugins/crm/upstream-connection')).status).toBe(404);
    expect((await (await fetch(`${api}/v1/tenants/ops-co/virtual-servers/support`, { headers: { authorization: `Bearer ${platformToken}` } })).json()) as { tools: unknown[] }).toMatchObject({ tools: [{ name: 'say' }, { name: 'add_note' }] });
    const page = await openPage();
    await signIn(page, token);
    await page.getByRole('heading', { name: 'own-co', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Sessions', exact: true }).click();
    await page.getByText('No live sessions').waitFor();
    // The platform's audit log is no page for a tenant admin: "not found" (the API answers 403).
    await page.evaluate(() => ((globalThis as unknown as BrowserGlobals).location.hash = '#/audit'));
    await page.getByRole('heading', { name: 'Page not found', level: 1 }).waitFor();
    expect(await page.getByRole('table').count()).toBe(0);
    expect((await fetch(`${api}/v1/audit`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(403);
    await page.evaluate((hash) => ((globalThis as unknown as BrowserGlobals).location.hash = hash), `#/tenants/${own.id}`);
    await page.getByRole('heading', { name: 'own-co', level: 1 }).waitFor();
    for (const view of ['sessions', 'usage', 'audit', 'oauth', 'virtual-servers']) {
      await page.evaluate((hash) => ((globalThis as unknown as BrowserGlobals).location.hash = hash), `#/tenants/ops-co/${view}`);
      await page.getByRole('heading', { name: 'Tenant not found' }).waitFor();
      await page.getByText('Not found.').waitFor();
      expect(await page.getByRole('table').count()).toBe(0);
      expect(await accessibilityProblems(page)).toEqual([]);
      // Back to its own tenant before the next try, so each "not found" is a new page.
      await page.evaluate((hash) => ((globalThis as unknown as BrowserGlobals).location.hash = hash), `#/tenants/${own.id}`);
      await page.getByRole('heading', { name: 'own-co', level: 1 }).waitFor();
    }
    await page.close();
  }, 90_000);

  it('returns to sign-in with a message when the API stops accepting the token, and forgets it on reload and sign-out', async () => {
    const page = await openPage();
    await signIn(page, await mintToken());
    await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();

    await page.reload();
    await page.getByRole('heading', { name: 'Sign in to Switchboard' }).waitFor();

    await signIn(page, await mintToken());
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('Signed out. The token is forgotten.').waitFor();

    // An expired token looks like this to the console: the API's 401 on the next request.
    await signIn(page, await mintToken());
    await page.getByRole('link', { name: 'own-co' }).waitFor();
    await page.route('**/v1/**', (route) =>
      route.fulfill({ status: 401, contentType: 'application/json', body: JSON.stringify({ error: { code: 'UNAUTHENTICATED', message: 'A valid admin bearer token is required.' } }) }),
    );
    await page.getByRole('link', { name: 'own-co' }).click();
    await page.getByText('Your session ended').waitFor();
    await page.getByLabel('Admin token').waitFor();
    expect(page.url()).not.toContain('eyJ');
    await page.close();
  }, 90_000);
});

describe('web console platform pages on a cluster (API and a gateway node on Redis, Chromium)', () => {
  // The production shape: the API and a gateway node as two processes sharing Postgres and Redis,
  // so the node registers itself in Redis as every gateway does and usage goes through BullMQ.
  let database: TestDatabase;
  let dataDir: string;
  let env: Record<string, string>;
  let apiProcess: ApiProcess | undefined;
  let gatewayProcess: ChildProcess;
  let api: string;
  let gateway: string;
  let browser: Browser;
  let context: BrowserContext;
  const prefix = `sbtest-console-${randomBytes(3).toString('hex')}`;
  const nodeId = `${prefix}-gw1`;
  const cspErrors: string[] = [];
  const clients: Client[] = [];

  async function mintToken(...args: string[]): Promise<string> {
    const { stdout } = await run(process.execPath, ['dist/apps/api/src/cli.js', 'token', ...args], { cwd: root, env });
    return stdout.trim().split('\n').pop()!.trim();
  }
  async function call(token: string, method: string, route: string, body?: unknown): Promise<Response> {
    return fetch(`${api}${route}`, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body: body !== undefined ? JSON.stringify(body) : undefined });
  }
  async function openPage(token: string): Promise<Page> {
    const page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) cspErrors.push(message.text());
    });
    await page.goto(`${api}/console/`);
    await page.getByLabel('Admin token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    return page;
  }
  /** A tenant with echo and a key, and an official SDK client connected through the gateway node. */
  async function tenantWithSession(platformToken: string, slug: string): Promise<{ id: string; client: Client; sessionId: string }> {
    const tenant = (await (await call(platformToken, 'POST', '/v1/tenants', { slug, name: slug })).json()) as { id: string };
    expect((await call(platformToken, 'PUT', `/v1/tenants/${slug}/plugins/echo`, { enabled: true, config: {} })).status).toBe(200);
    const issued = (await (await call(platformToken, 'POST', `/v1/tenants/${slug}/api-keys`, { name: 'laptop' })).json()) as { secret: string; urls: { streamableHttp: string } };
    const client = new Client({ name: 'console-cluster-e2e', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(issued.urls.streamableHttp), { requestInit: { headers: { authorization: `Bearer ${issued.secret}` } } }));
    clients.push(client);
    return { id: tenant.id, client, sessionId: (client.transport as StreamableHTTPClientTransport).sessionId! };
  }

  beforeAll(async () => {
    database = await createTestDatabase('console_cluster_e2e');
    dataDir = mkdtempSync(path.join(tmpdir(), 'sb-console-cluster-'));
    cpSync(path.join(root, 'dist/console'), path.join(dataDir, 'console'), { recursive: true });
    const [apiPort, gatewayPort] = await Promise.all([freePort(), freePort()]);
    api = `http://127.0.0.1:${apiPort}`;
    gateway = `http://127.0.0.1:${gatewayPort}`;
    env = {
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      GATEWAY_PORT: String(gatewayPort),
      API_METRICS_PORT: 'off',
      GATEWAY_METRICS_PORT: 'off',
      REDIS_URL: testRedisUrl(),
      REDIS_PREFIX: prefix,
      CLUSTER_SECRET: randomBytes(32).toString('base64'),
      ADMIN_JWT_SECRET: randomBytes(32).toString('hex'),
      SECRETS_KEY: randomBytes(32).toString('base64'),
      KEY_PEPPER: randomBytes(32).toString('base64'),
      PUBLIC_GATEWAY_URL: gateway,
      CONSOLE_DIR: path.join(dataDir, 'console'),
      LOG_LEVEL: 'warn',
    };
    await run(process.execPath, ['dist/apps/api/src/cli.js', 'migrate'], { cwd: root, env });
    // The gateway's warnings and errors go to the test's output; the API's are kept by startApiProcess.
    gatewayProcess = spawn(process.execPath, ['dist/apps/gateway/src/main.js'], { cwd: root, env: { ...env, NODE_ID: nodeId }, stdio: ['ignore', 'ignore', 'inherit'] });
    [apiProcess] = await Promise.all([startApiProcess({ ...env, NODE_ID: `${prefix}-api`, LOG_LEVEL: 'info' }), waitForHttp(`${gateway}/readyz`, { process: gatewayProcess })]);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    context.setDefaultTimeout(20_000);
  }, 90_000);

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    await browser?.close();
    if (gatewayProcess && gatewayProcess.exitCode === null) {
      gatewayProcess.kill('SIGTERM');
      await new Promise((resolve) => gatewayProcess.once('exit', resolve));
    }
    await apiProcess?.close();
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    const redis = new Redis(testRedisUrl());
    const leftovers = await redis.keys(`${prefix}:*`);
    if (leftovers.length > 0) await redis.del(...leftovers);
    redis.disconnect();
  }, 60_000);

  afterEach(() => {
    expect(cspErrors).toEqual([]);
  });

  it("shows a platform admin every tenant's live sessions and the node holding them, and ends one", async () => {
    const platformToken = await mintToken();
    const beta = await tenantWithSession(platformToken, 'beta-co');
    const gamma = await tenantWithSession(platformToken, 'gamma-co');
    const page = await openPage(platformToken);
    await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();

    await page.getByRole('link', { name: 'Live sessions' }).click();
    await page.getByRole('heading', { name: 'Live sessions', level: 1 }).waitFor();
    const betaRow = page.getByRole('row', { name: new RegExp(`beta-co ${beta.sessionId.replace(/[.]/g, '\\.')}`) });
    const gammaRow = page.getByRole('row', { name: new RegExp(`gamma-co ${gamma.sessionId.replace(/[.]/g, '\\.')}`) });
    await betaRow.waitFor();
    await gammaRow.getByRole('cell', { name: nodeId, exact: true }).waitFor();
    await page.getByText('Showing 2 of 2.').waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshots, 'platform-sessions.png'), fullPage: true });

    // A node id the API refuses: the message is beside the field.
    await page.getByLabel('Node', { exact: true }).fill('not a node');
    await page.getByRole('button', { name: 'Show sessions' }).click();
    await page.locator('.field-invalid', { has: page.getByLabel('Node', { exact: true }) }).getByText('not a node id').waitFor();
    await page.getByLabel('Node', { exact: true }).fill('');
    await page.getByRole('button', { name: 'Show sessions' }).click();

    await gammaRow.getByRole('button', { name: 'End' }).click();
    await gammaRow.getByRole('button', { name: `End session ${gamma.sessionId}` }).click();
    await page.getByText(`Session ${gamma.sessionId} of gamma-co ended.`).waitFor();
    await eventually(async () => {
      await page.getByRole('button', { name: 'Refresh sessions' }).click();
      return (await page.getByText('Showing 1 of 1.').count()) === 1 && (await gammaRow.count()) === 0;
    }, 10_000, 200);
    await expect(gamma.client.callTool({ name: 'echo__echo', arguments: { text: 'after' } })).rejects.toMatchObject({ code: 404 });
    // The ending is in gamma's own audit log, and beta's session goes on.
    const audit = (await (await call(platformToken, 'GET', '/v1/tenants/gamma-co/audit?action=session.terminate')).json()) as { items: { targetId: string }[] };
    expect(audit.items.map((event) => event.targetId)).toEqual([gamma.sessionId]);
    expect((await beta.client.callTool({ name: 'echo__echo', arguments: { text: 'still here' } })).isError).toBeFalsy();

    // The node, registered by itself in Redis: up, its heartbeat renewed, one session; its count links to its sessions.
    await page.getByRole('link', { name: 'Cluster nodes' }).click();
    await page.getByRole('heading', { name: 'Cluster nodes', level: 1 }).waitFor();
    const nodeRow = page.getByRole('row', { name: new RegExp(`^${nodeId} up renewed; expires in \\d+ s 1`) });
    await nodeRow.waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshots, 'nodes.png'), fullPage: true });
    await nodeRow.getByRole('link', { name: `1 sessions on ${nodeId}` }).click();
    await page.getByRole('heading', { name: `Live sessions on ${nodeId}`, level: 1 }).waitFor();
    await betaRow.waitFor();
    expect(await page.getByLabel('Node', { exact: true }).inputValue()).toBe(nodeId);

    // At a phone's width the table scrolls inside its frame, the page does not.
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate(() => {
      const { document, innerWidth } = globalThis as unknown as BrowserGlobals;
      return document.documentElement.scrollWidth <= innerWidth;
    })).toBe(true);
    await page.screenshot({ path: path.join(screenshots, 'platform-sessions-phone.png') });
    await page.close();
  }, 90_000);

  it('lists a failed usage job, retries it and discards it', async () => {
    const platformToken = await mintToken();
    // What a broken producer would queue: not a usage event, so the worker fails it at once, for good.
    const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: null });
    const queue = new Queue(USAGE_QUEUE_NAME, { connection: redis, prefix: `${prefix}:bull` });
    try {
      await queue.add('usage-events', { not: 'an event' }, { jobId: 'broken-batch' });
    } finally {
      await queue.close();
      redis.disconnect();
    }
    await eventually(async () => {
      const jobs = (await (await call(platformToken, 'GET', '/v1/usage/failed-jobs')).json()) as { items: { id: string }[] };
      return jobs.items.some((job) => job.id === 'broken-batch');
    }, 10_000, 200);

    const page = await openPage(platformToken);
    await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'Usage jobs' }).click();
    await page.getByRole('heading', { name: 'Failed usage jobs', level: 1 }).waitFor();
    const row = page.getByRole('row', { name: /broken-batch Not a usage event/ });
    await row.waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.screenshot({ path: path.join(screenshots, 'usage-jobs.png'), fullPage: true });

    await row.getByRole('button', { name: 'Retry job broken-batch' }).click();
    await page.getByText('Job broken-batch is queued again.').waitFor();
    // Still broken, so it fails again at once; the retry is in the platform's audit log.
    await eventually(async () => {
      const jobs = (await (await call(platformToken, 'GET', '/v1/usage/failed-jobs')).json()) as { items: { id: string }[] };
      return jobs.items.some((job) => job.id === 'broken-batch');
    }, 10_000, 200);
    await page.getByRole('button', { name: 'Refresh jobs' }).click();
    await row.getByRole('button', { name: 'Discard' }).click();
    await row.getByRole('button', { name: 'Discard job broken-batch' }).click();
    await page.getByText('Job broken-batch discarded.').waitFor();
    await page.getByText('No failed usage jobs.').waitFor();
    const audit = (await (await call(platformToken, 'GET', '/v1/audit?targetType=usage-job')).json()) as { items: { action: string }[] };
    expect(audit.items.map((event) => event.action)).toEqual(['usage-job.discard', 'usage-job.retry']);
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.close();
  }, 90_000);

  it('keeps a tenant admin out of the platform pages: the API refuses them and the console shows not found', async () => {
    const platformToken = await mintToken();
    const delta = await tenantWithSession(platformToken, 'delta-co');
    const token = await mintToken('--tenant', delta.id);
    // From the attacker's side: even its own tenant's session is not its to see or end through the cluster routes.
    for (const [method, route] of [
      ['GET', '/v1/cluster/nodes'],
      ['GET', '/v1/cluster/sessions'],
      ['DELETE', `/v1/cluster/sessions/${delta.sessionId}`],
      ['GET', '/v1/usage/failed-jobs'],
      ['POST', '/v1/usage/failed-jobs/any-job/retry'],
      ['DELETE', '/v1/usage/failed-jobs/any-job'],
    ] as const) {
      const res = await call(token, method, route);
      expect(res.status).toBe(403);
      expect(await res.text()).not.toContain('beta-co');
    }
    expect((await delta.client.callTool({ name: 'echo__echo', arguments: { text: 'untouched' } })).isError).toBeFalsy();

    const page = await openPage(token);
    await page.getByRole('heading', { name: 'delta-co', level: 1 }).waitFor();
    expect(await page.getByRole('link', { name: 'Live sessions' }).count()).toBe(0);
    for (const hash of ['#/sessions', `#/sessions/node/${nodeId}`, '#/nodes', '#/usage-jobs']) {
      await page.evaluate((value) => ((globalThis as unknown as BrowserGlobals).location.hash = value), hash);
      await page.getByRole('heading', { name: 'Page not found', level: 1 }).waitFor();
      expect(await page.getByRole('table').count()).toBe(0);
      expect(await page.content()).not.toContain('beta-co');
      expect(await accessibilityProblems(page)).toEqual([]);
      await page.evaluate((value) => ((globalThis as unknown as BrowserGlobals).location.hash = value), `#/tenants/${delta.id}`);
      await page.getByRole('heading', { name: 'delta-co', level: 1 }).waitFor();
    }
    await page.close();
  }, 90_000);
});
