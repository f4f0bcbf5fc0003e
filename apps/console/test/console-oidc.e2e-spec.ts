import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  accessibilityProblems,
  createTestDatabase,
  freePort,
  launchBrowser,
  startApiProcess,
  startMiniOidcProvider,
  type ApiProcess,
  type MiniOidcProvider,
  type TestDatabase,
} from '@switchboard/testing';

// Operator sign-in to the console through OpenID Connect, in Debian's Chromium: the built admin
// API as its own process (jest's global setup has built dist/ and dist/console), the test
// provider on loopback, and a click on "Sign in with …".

const root = path.resolve(__dirname, '../../..');
const PROVIDER = 'Acme SSO';
const CLIENT_ID = 'switchboard-console';
const CLIENT_SECRET = randomBytes(16).toString('hex');

/** What the page.evaluate callbacks read in the browser: this file compiles without the DOM library. */
interface BrowserGlobals {
  localStorage: { length: number };
  sessionStorage: { length: number };
  location: { hash: string };
}

describe('console sign-in through OpenID Connect (Chromium)', () => {
  let database: TestDatabase;
  let dataDir: string;
  let idp: MiniOidcProvider;
  let api: ApiProcess;
  let consoleUrl: string;
  let browser: Browser;
  let context: BrowserContext;
  const cspErrors: string[] = [];

  async function openPage(url = consoleUrl): Promise<Page> {
    const page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) cspErrors.push(message.text());
    });
    await page.goto(url);
    return page;
  }

  beforeAll(async () => {
    database = await createTestDatabase('console_oidc_e2e');
    dataDir = mkdtempSync(path.join(tmpdir(), 'sb-console-oidc-e2e-'));
    // A copy of the build: another test run's global setup rebuilding dist/console cannot empty it under this one.
    cpSync(path.join(root, 'dist/console'), path.join(dataDir, 'console'), { recursive: true });
    idp = await startMiniOidcProvider();
    idp.clients.set(CLIENT_ID, CLIENT_SECRET);
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    api = await startApiProcess({
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      HOST: '127.0.0.1',
      API_PORT: String(port),
      API_METRICS_PORT: 'off',
      ADMIN_JWT_SECRET: randomBytes(32).toString('hex'),
      SECRETS_KEY: randomBytes(32).toString('base64'),
      KEY_PEPPER: randomBytes(32).toString('base64'),
      CONSOLE_DIR: path.join(dataDir, 'console'),
      CONSOLE_OIDC_ISSUER: idp.issuer,
      CONSOLE_OIDC_CLIENT_ID: CLIENT_ID,
      CONSOLE_OIDC_CLIENT_SECRET: CLIENT_SECRET,
      CONSOLE_OIDC_REDIRECT_URI: `${origin}/console/oidc/callback`,
      CONSOLE_OIDC_PLATFORM_ADMINS: 'ada@acme.test',
      CONSOLE_OIDC_PROVIDER_NAME: PROVIDER,
      CONSOLE_OIDC_ALLOW_CIDRS: '127.0.0.1/32',
    });
    consoleUrl = `${api.url}/console/`;
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // A missing element fails at its step, well inside the test's own timeout: the bound only rules out a hang.
    context.setDefaultTimeout(20_000);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await idp?.close();
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  beforeEach(() => {
    idp.nextUser = { sub: 'user-ada', email: 'ada@acme.test', email_verified: true };
  });

  afterEach(() => {
    expect(cspErrors).toEqual([]);
  });

  it('signs in with a click on "Sign in with …", lands signed in with the code gone from the URL, and signs out', async () => {
    const page = await openPage();
    const button = page.getByRole('link', { name: `Sign in with ${PROVIDER}` });
    await button.waitFor();
    expect(await accessibilityProblems(page)).toEqual([]);

    await button.click();
    await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
    await page.getByText('Platform admin', { exact: true }).waitFor();
    // The handover code is gone from the address bar and from this history entry.
    expect(page.url()).toBe(consoleUrl);
    expect(await page.evaluate(() => (globalThis as unknown as BrowserGlobals).location.hash)).toBe('');
    // The token is in memory only; the round trip's cookie is spent.
    expect(await page.evaluate(() => [(globalThis as unknown as BrowserGlobals).localStorage.length, (globalThis as unknown as BrowserGlobals).sessionStorage.length])).toEqual([0, 0]);
    expect((await context.cookies()).map((cookie) => cookie.name)).not.toContain('sb_console_oidc');
    // Signed in for real: the API answers the console's calls.
    await page.getByRole('heading', { name: 'Tenants', level: 1 }).waitFor();
    expect(await page.getByRole('alert').count()).toBe(0);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('Signed out. The token is forgotten.').waitFor();
    await page.getByRole('link', { name: `Sign in with ${PROVIDER}` }).waitFor();
    await page.close();
  }, 90_000);

  it('shows a person the operator did not list a 403 page, and signs nobody in', async () => {
    idp.nextUser = { sub: 'user-eve', email: 'eve@acme.test', email_verified: true };
    const page = await openPage();
    await page.getByRole('link', { name: `Sign in with ${PROVIDER}` }).click();
    await page.getByRole('heading', { name: 'Not a platform admin', level: 1 }).waitFor();
    await page.getByText('eve@acme.test').waitFor();
    expect(page.url()).toMatch(/\/console\/oidc\/callback\?/);
    expect(await accessibilityProblems(page)).toEqual([]);
    await page.getByRole('link', { name: "Back to the console's sign-in page" }).click();
    await page.getByRole('link', { name: `Sign in with ${PROVIDER}` }).waitFor();
    await page.close();
  }, 90_000);

  it('says so when a handover code is spent or unknown, and removes it from the URL', async () => {
    const page = await openPage(`${consoleUrl}#/signed-in/${'A'.repeat(43)}`);
    await page.getByRole('alert').filter({ hasText: 'The sign-in could not be completed' }).waitFor();
    expect(page.url()).toBe(consoleUrl);
    await page.getByLabel('Admin token').waitFor();
    await page.close();
  }, 90_000);
});
