// SPDX-License-Identifier: MIT
// browser.mjs - Debian's chromium, headless, driven by playwright-core (no
// browser is ever downloaded), at the township's usual screen size, trusting
// exactly one hub's certificate; and the screenshots every test saves.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { CHROMIUM, SHOTS } from './paths.mjs';

export const VIEWPORT = { width: 1366, height: 768 };
const LAUNCH_TIMEOUT_MS = 120_000;
const ACTION_TIMEOUT_MS = 30_000; // clicks, fills, waits for an element
const NAVIGATION_TIMEOUT_MS = 60_000;

const open = new Set(); // browsers not yet closed, for closeAllBrowsers()

// openBrowser(hub, {locale, viewport, timezoneId, args}): chromium with a
// fresh context and one page. The hub's self-signed certificate is accepted
// by its SPKI hash only (--ignore-certificate-errors-spki-list): any other
// certificate error still fails, and TLS checking stays on. Resolves to
// {browser, context, page, close()}; close() is safe to call twice.
export async function openBrowser(hub, opts = {}) {
  const { locale = 'zh-CN', viewport = VIEWPORT, timezoneId = 'Asia/Shanghai', args = [] } = opts;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: LAUNCH_TIMEOUT_MS,
    args: [`--ignore-certificate-errors-spki-list=${hub.spki}`, ...args],
  });
  open.add(browser);
  try {
    const context = await browser.newContext({ viewport, locale, timezoneId, baseURL: hub.url });
    context.setDefaultTimeout(ACTION_TIMEOUT_MS);
    context.setDefaultNavigationTimeout(NAVIGATION_TIMEOUT_MS);
    const page = await context.newPage();
    const close = async () => {
      open.delete(browser);
      await browser.close().catch(() => {});
    };
    return { browser, context, page, close };
  } catch (e) {
    open.delete(browser);
    await browser.close().catch(() => {});
    throw e;
  }
}

// signIn(page, hub, name, password): a session for the page's context
// through POST /api/login, for tests of the pages behind the sign-in page
// (login.test.mjs tests that page itself). The request is made by the
// browser, from the hub's /v1/health (an answer with no script of its own
// that could navigate away meanwhile), so TLS is checked as for any page and
// the cookie lands where the browser keeps it; go to the page under test
// afterwards. (Playwright's context.request would not do: it runs in Node,
// outside chromium's certificate exception.) Resolves to the answer's JSON
// ({user, role, csrf}); rejects unless it is 200.
export async function signIn(page, hub, name, password) {
  await page.goto(`${hub.url}/v1/health`);
  const r = await page.evaluate(async ([n, p]) => {
    const res = await fetch('/api/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify({ name: n, password: p }),
    });
    return { status: res.status, body: await res.text() };
  }, [name, password]);
  if (r.status !== 200) {
    throw new Error(`sign-in as ${name}: ${r.status} ${r.body}`);
  }
  return JSON.parse(r.body);
}

// The test file's name without .test.mjs: the prefix of its screenshots.
const testName = path.basename(process.argv[1] || 'browser').replace(/\.test\.m?js$|\.m?js$/, '');
let shots = 0;

// shot(page, name, {fullPage}): saves a PNG of the page as
// $BUILD/browser-shots/TEST-NN-NAME.png (NN counts the file's screenshots,
// so that a listing shows them in order). Resolves to the file's path.
export async function shot(page, name, { fullPage = true } = {}) {
  mkdirSync(SHOTS, { recursive: true });
  shots += 1;
  const safe = String(name).replace(/[^\p{L}\p{N}._-]+/gu, '-');
  const file = path.join(SHOTS, `${testName}-${String(shots).padStart(2, '0')}-${safe}.png`);
  await page.screenshot({ path: file, fullPage });
  return file;
}

// closeAllBrowsers(): closes every browser opened and not yet closed.
export async function closeAllBrowsers() {
  await Promise.all([...open].map((b) => b.close().catch(() => {})));
  open.clear();
}
