import { chromium, type Browser } from 'playwright-core';
import { startGateway, type RunningGateway } from './support/gateway.harness.js';

/*
 * The API reference page (/docs) in a real browser: Debian's chromium driven by playwright-core
 * (shared/TOOLCHAIN.md). The page must render the operations of /api/v1/openapi.json with only the
 * gateway's own files, under its CSP, without a console error. The page needs no service: the gateway
 * runs with real Redis and RabbitMQ and a user-service address nobody answers.
 */

let gateway: RunningGateway;
let browser: Browser;

beforeAll(async () => {
  gateway = await startGateway('127.0.0.1:9', {}, { waitUntilReady: false });
  browser = await chromium.launch({
    executablePath: process.env['CHROMIUM_PATH'] || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.stop();
}, 60_000);

test('When /docs is opened in Chromium, then Swagger UI lists the operations without errors or CSP violations', async () => {
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning')
      problems.push(`console ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`request failed ${request.url()}`));
  const requested: string[] = [];
  page.on('request', (request) => requested.push(request.url()));

  const response = await page.goto(`${gateway.baseUrl}/docs`);
  expect(response?.status()).toBe(200);
  await page.locator('.opblock').first().waitFor({ timeout: 60_000 });

  const summaries = await page.locator('.opblock-summary').evaluateAll((blocks) =>
    blocks.map((block) => {
      const method = block.querySelector('.opblock-summary-method')?.textContent?.trim() ?? '';
      const path = block.querySelector('.opblock-summary-path')?.getAttribute('data-path') ?? '';
      return `${method} ${path}`;
    }),
  );
  expect(summaries).toEqual(
    expect.arrayContaining([
      'POST /api/v1/auth/register',
      'GET /api/v1/sessions',
      'POST /api/v1/sessions/{id}/messages',
      'GET /api/v1/events',
      'POST /v1/chat/completions',
    ]),
  );
  expect(summaries.length).toBeGreaterThan(40);
  await expect(page.locator('.opblock-tag').filter({ hasText: 'OpenAI-compatible' }).count()).resolves.toBe(
    1,
  );
  // Only the gateway's own origin was asked for anything (no CDN, no validator badge).
  expect(requested.filter((url) => !url.startsWith(gateway.baseUrl))).toEqual([]);
  expect(problems).toEqual([]);
  await page.close();
}, 90_000);
