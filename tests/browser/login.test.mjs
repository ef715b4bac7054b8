// SPDX-License-Identifier: MIT
// login.test.mjs - the township's sign-in page in a real browser against a
// real hub: Chinese by default, a wrong password refused with a message on
// the same page, the English switch, the right password giving a session
// that the hub's API accepts, and a session cookie that scripts cannot read.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { TIMEOUT, openBrowser, shot, startHub, teardown } from './lib/harness.mjs';

const NAME = '王芳';
const PASSWORD = 'qiaotou-2024-review';

let hub;
let page;
let context;

before(async () => {
  hub = await startHub();
  await hub.addUser(NAME, PASSWORD, 'reviewer');
  ({ page, context } = await openBrowser(hub));
}, { timeout: TIMEOUT });

after(teardown, { timeout: TIMEOUT });

// /api/me as the page's own script would ask it (same origin, its cookies).
// Retried when a navigation of the page replaces the script's context.
async function apiMe() {
  for (let attempt = 0; ; attempt++) {
    try {
      return await page.evaluate(async () => {
        const r = await fetch('/api/me', { headers: { Accept: 'application/json' }, cache: 'no-store' });
        return { status: r.status, body: await r.json().catch(() => ({})) };
      });
    } catch (e) {
      if (attempt >= 5 || !/context was destroyed|navigat/i.test(e.message)) {
        throw e;
      }
      await page.waitForLoadState('load');
    }
  }
}

const text = (selector) => page.locator(selector).textContent();

// The sign-in page is ready for a person once its check of /api/me has come
// back and it has put the cursor in the name field. (Waits across
// navigations: / may send a browser without a session on to /login.)
async function loginPageReady() {
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'name');
}

test('sign-in page', { timeout: TIMEOUT }, async (t) => {
  await t.test('loads in Chinese by default at /', async () => {
    const res = await page.goto('/');
    assert.equal(res.status(), 200);
    await loginPageReady();
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN');
    assert.equal(await page.title(), '乡镇调解台账 · 登录');
    assert.equal(await text('h1'), '乡镇调解台账');
    assert.equal(await text('label[for=name]'), '用户名');
    assert.equal(await text('label[for=password]'), '密码');
    assert.equal(await text('#submit'), '登录');
    assert.equal(await text('#lang'), 'English');
    assert.ok(await page.locator('#login').isVisible());
    assert.equal((await apiMe()).status, 401, 'no session before signing in');
    await shot(page, 'zh-default');
  });

  await t.test('a wrong password shows an error and stays', async () => {
    const before = page.url();
    await page.fill('#name', NAME);
    await page.fill('#password', 'not-the-password');
    const answer = page.waitForResponse((r) => r.url().endsWith('/api/login'));
    await page.click('#submit');
    assert.equal((await answer).status(), 401);
    await page.waitForFunction(() => document.getElementById('message').textContent.trim() !== '');
    assert.equal(await text('#message'), '用户名或密码错误。');
    assert.equal(page.url(), before, 'the page stays');
    assert.ok(await page.locator('#login').isVisible(), 'the form is still there');
    assert.equal(await page.inputValue('#password'), '', 'the wrong password is cleared');
    assert.equal((await apiMe()).status, 401, 'still no session');
    await shot(page, 'wrong-password');
  });

  await t.test('switches to English and back', async () => {
    await page.click('#lang');
    await page.waitForFunction(() => document.documentElement.lang === 'en');
    assert.equal(await text('h1'), 'Township mediation ledger');
    assert.equal(await text('label[for=name]'), 'Name');
    assert.equal(await text('#submit'), 'Sign in');
    assert.equal(await text('#lang'), '中文');
    await shot(page, 'english');
    await page.click('#lang');
    await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
    assert.equal(await text('h1'), '乡镇调解台账');
  });

  await t.test('the right password signs in', async () => {
    await page.fill('#name', NAME);
    await page.fill('#password', PASSWORD);
    const answer = page.waitForResponse((r) => r.url().endsWith('/api/login'));
    await page.click('#submit');
    assert.equal((await answer).status(), 200);
    // Whatever the page does next (it has shown whose session this is, and
    // now goes on to the review pages), the form goes away and the session
    // is one the hub's API accepts.
    await page.waitForFunction(() => {
      const form = document.getElementById('login');
      return document.readyState === 'complete' && (!form || form.hidden);
    });
    await page.waitForLoadState('networkidle');
    const me = await apiMe();
    assert.equal(me.status, 200);
    assert.equal(me.body.user, NAME);
    assert.equal(me.body.role, 'reviewer');
    await shot(page, 'signed-in');
  });

  await t.test('the session cookie is HttpOnly, Secure and SameSite=Strict', async () => {
    const cookies = await context.cookies(hub.url);
    const session = cookies.find((c) => c.name === 'hamlet_session');
    assert.ok(session, `a session cookie among ${cookies.map((c) => c.name).join(', ') || 'none'}`);
    assert.equal(session.httpOnly, true);
    assert.equal(session.secure, true);
    assert.equal(session.sameSite, 'Strict');
    assert.ok(!(await page.evaluate(() => document.cookie)).includes('hamlet_session'),
      "the page's scripts cannot read it");
  });
});
