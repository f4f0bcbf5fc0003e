import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { launchBrowser } from './browser';

// The browser the sign-in and console tests drive: it starts, renders a loopback page, submits a
// form without JavaScript, and closes. A failure here is the machine, not the product.
describe('launchBrowser (Debian Chromium through playwright-core)', () => {
  let browser: Browser;
  let server: Server;
  let url: string;
  const posted: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.method === 'POST') {
        let body = '';
        req.on('data', (chunk) => (body += chunk));
        req.on('end', () => {
          posted.push(body);
          res.writeHead(200, { 'content-type': 'text/html' }).end('<p id="done">thanks</p>');
        });
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html' }).end('<form method="post"><label>Name <input name="name"></label><button>Send</button></form>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    browser = await launchBrowser();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('fills and submits a form on a loopback page', async () => {
    const page = await browser.newPage();
    await page.goto(url);
    await page.getByLabel('Name').fill('Ada');
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('#done').waitFor();
    expect(posted).toEqual(['name=Ada']);
  });
});
