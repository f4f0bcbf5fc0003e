import type { Browser } from 'playwright-core';

/**
 * The person at the consent page, in Chromium without JavaScript: paste an API key of the tenant,
 * press Approve, and let the browser follow the redirect to the client's own callback server
 * (a real OAuth client listening on loopback), as a desktop browser would. Resolves with the
 * callback URL once its page has loaded.
 */
export async function approveInBrowser(browser: Browser, authorizationUrl: string, signIn: { tenantName: string; apiKey: string; callbackPrefix: string }): Promise<URL> {
  const context = await browser.newContext({ javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    await page.goto(authorizationUrl);
    await page.getByLabel(`API key of ${signIn.tenantName}`).fill(signIn.apiKey);
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${signIn.callbackPrefix}**`);
    return new URL(page.url());
  } finally {
    await context.close();
  }
}
