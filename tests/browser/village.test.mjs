// SPDX-License-Identifier: MIT
// village.test.mjs - the village's pages (hamlet ui) as a secretary uses
// them on a fresh laptop, against a real hub on loopback: open the first
// address (its token becomes a cookie and leaves the address bar); enrol
// with the township's code; record a case with two parties, after the form
// has said what is wrong; add an event; see that an illegal status change
// is not offered and make a legal one; fill an agreement, see it
// incomplete, complete it, sign it and print it to PDF on A4; change it by
// a supplementary agreement (补充协议) made in the page, listed on the case
// as supplementing the first, its paper form naming it; sync and find
// the case in `hamlet-hub export`; correct a party's name and phone on the
// case page (the form holds no number in full, refuses a bad one, keeps
// the ID card number left empty) and, after `hamlet sync`, find the new
// name in the hub's export; the township asks for a correction and,
// after a sync, the Today page shows it and takes the answer; a browser
// without the session opens the pages through the launcher's page (ui.html,
// a file: page beside ui.url), as `hamlet ui --open` hands it over. Each
// step saves a screenshot.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Agent, SHOTS, TIMEOUT, openBrowser, shot, startHub, teardown } from './lib/harness.mjs';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const TITLE = '王德发与李春生宅基地边界纠纷';
const COMMENT = '请补充双方宅基地证的编号和现场照片';

let hub;
let laptop;
let ui;
let page;
let caseId;

// The laptop's ledger, exported, parsed: its cases by id.
async function exportedCase(agent, id) {
  const line = (await agent.export()).split('\n').find((l) => l.includes(`"id":"${id}"`));
  return line ? JSON.parse(line) : null;
}

// The case's page, drawn.
async function openCase() {
  await page.goto(`/#/case/${caseId}`);
  await page.locator('#case-title').waitFor();
}

// Press "sync now" on the Today page and wait for its outcome.
async function syncNow() {
  await page.goto('/#/today');
  await page.locator('#sync-now:not([disabled])').waitFor();
  await page.locator('#sync-now').click();
  await page.waitForFunction(() => {
    const m = document.querySelector('#sync-message');
    return m && /同步完成|同步没有完成/.test(m.textContent);
  }, null, { timeout: 120_000 });
  return page.locator('#sync-message').textContent();
}

before(async () => {
  hub = await startHub();
  await hub.addVillage('baisha', '白沙村');
  // A laptop as it comes: no ledger yet, not enrolled.
  laptop = new Agent(hub, 'v1', 'baisha');
  hub.agents.push(laptop);
  // The UI leaves ui.url and ui.html in $XDG_RUNTIME_DIR/hamlet: a folder
  // of the test's, not the user's.
  process.env.XDG_RUNTIME_DIR = path.join(hub.dir, 'run');
  mkdirSync(process.env.XDG_RUNTIME_DIR, { mode: 0o700 });
  ui = await laptop.startUi();
  ({ page } = await openBrowser({ url: ui.url, spki: hub.spki }));
}, { timeout: TIMEOUT });

after(teardown, { timeout: TIMEOUT });

test('the first address opens the pages; a fresh laptop enrols with the code', { timeout: TIMEOUT }, async () => {
  await page.goto(ui.firstUrl);
  await page.waitForURL((url) => url.pathname === '/' && !url.search.includes('token'));
  await page.locator('#enrol-code').waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
  const code = await hub.addDevice('baisha', { label: '村委会笔记本' });
  await page.locator('#enrol-code').fill(`  ${code}\n`);
  await shot(page, 'enrol');
  await page.locator('#enrol').click();
  await page.locator('#sync').waitFor();
  assert.match(await page.locator('#village-name').textContent(), /白沙村/);
  assert.match(await laptop.status(), new RegExp(`hub: +${hub.url.replace(/[.]/g, '\\.')}`));
  await shot(page, 'today-enrolled');
});

test('a case with two parties, after the form says what is wrong', { timeout: TIMEOUT }, async () => {
  await page.goto('/#/new');
  await page.locator('#intake').waitFor();
  // Saved empty: each required field says so.
  await page.locator('#save-case').click();
  await page.locator('#form-summary').filter({ hasText: '需要填写' }).waitFor();
  assert.equal(await page.locator('[name=title]').getAttribute('aria-invalid'), 'true');
  assert.match(await page.locator('.problem[data-for=title]').textContent(), /必须填写/);
  assert.match(await page.locator('.problem[data-for="parties.0.name"]').textContent(), /必须填写/);

  await page.locator('[name=title]').fill(TITLE);
  await page.locator('[name=category]').selectOption('land');
  await page.locator('[name=severity]').selectOption('2');
  await page.locator('[name=facts]').fill('王德发称李春生新建围墙占用其宅基地约半米，双方多次争吵。');
  await page.locator('[name=claims]').fill('请求李春生拆除越界部分围墙。');
  await page.locator('[name=received_by]').fill('张秀英');
  await page.locator('[name="parties.0.name"]').fill('王德发');
  await page.locator('[name="parties.0.phone"]').fill('1380013800x');
  await page.locator('[name="parties.0.id_no"]').fill('431228197202284460');
  await page.locator('[name="parties.0.address"]').fill('白沙村3组12号');
  await page.locator('[name="parties.1.name"]').fill('李春生');
  await page.locator('[name="parties.1.phone"]').fill('13912345678');
  await page.locator('#save-case').click();
  await page.locator('.problem[data-for="parties.0.phone"]').filter({ hasText: '数字' }).waitFor();
  await shot(page, 'intake-problems');
  await page.locator('[name="parties.0.phone"]').fill('13800138000');
  await page.locator('#save-case').click();
  await page.waitForURL(/#\/case\//);
  await page.locator('#case-title').waitFor();
  caseId = decodeURIComponent(page.url().split('#/case/')[1]);
  assert.match(await page.locator('#case-title').textContent(), new RegExp(TITLE));
  assert.match(await page.locator('#notice').textContent(), /（20\d\d）白沙调字第[A-Z0-9]{2}-\d{4}号/);
  const phones = await page.locator('#parties td.phone').allTextContents();
  assert.deepEqual(phones, ['138****8000', '139****5678']);
  assert.equal(await page.locator('#parties tbody tr').count(), 2);
  const c = await exportedCase(laptop, caseId);
  assert.equal(c.title, TITLE);
  assert.equal(c.parties.length, 2);
  assert.equal(c.status, 'registered');
  await shot(page, 'case-new');

  // The numbers in full, on request; the reveal is recorded.
  await page.locator('#reveal').click();
  await page.locator('#parties td.phone', { hasText: '13800138000' }).waitFor();
  await page.locator('#events', { hasText: '查看号码' }).waitFor();
});

test('an event is added to the case', { timeout: TIMEOUT }, async () => {
  await openCase();
  await page.locator('#event-form [name=kind]').selectOption('session');
  await page.locator('#event-form [name=note]').fill('第一次调解：双方同意请村组干部现场丈量。');
  await page.locator('#event-form button[type=submit]').click();
  await page.locator('#events td', { hasText: '第一次调解' }).waitFor();
  const kinds = await page.locator('#events tbody tr td:nth-child(2)').allTextContents();
  assert.ok(kinds.includes('调解'), `events: ${kinds}`);
  assert.ok(kinds.includes('登记'), 'the registration is the first event');
  await shot(page, 'event');
});

test('only the allowed status changes are offered; a legal one is made', { timeout: TIMEOUT }, async () => {
  await openCase();
  const offered = await page.locator('#new-status option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
  assert.ok(!offered.includes('concluded'), `a registered case cannot be concluded: ${offered}`);
  assert.ok(!offered.includes('mediating'), `nor go straight to mediation: ${offered}`);
  assert.ok(offered.includes('accepted'), `it can be accepted: ${offered}`);
  // The server refuses an illegal change even when asked directly.
  const refused = await page.evaluate(async (id) => {
    const s = await (await fetch('/api/session')).json();
    const r = await fetch('/api/case/status', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf },
      body: JSON.stringify({ id, status: 'concluded', lang: 'zh' }),
    });
    return { status: r.status, body: await r.json() };
  }, caseId);
  assert.equal(refused.status, 409);
  assert.match(refused.body.message, /受理/);

  await page.locator('#new-status').selectOption('accepted');
  await page.locator('#status-form button[type=submit]').click();
  await page.locator('#case-status', { hasText: '受理' }).waitFor();
  await page.locator('#new-status').selectOption('mediating');
  await page.locator('#status-form button[type=submit]').click();
  await page.locator('#case-status', { hasText: '调解中' }).waitFor();
  assert.equal((await exportedCase(laptop, caseId)).status, 'mediating');
  await shot(page, 'status');
});

test('an agreement: incomplete, completed, signed and printed on A4', { timeout: TIMEOUT }, async () => {
  await openCase();
  await page.locator('#new-agreement').click();
  await page.locator('#agreement-form').waitFor();
  await page.locator('[name=parties_details]').fill('申请人王德发，被申请人李春生，均为白沙村3组村民。');
  await page.locator('#save-agreement').click();
  await page.locator('#agreement-incomplete').waitFor();
  const missing = await page.locator('ul.missing li').allTextContents();
  assert.ok(missing.some((m) => m.includes('（二）')), `missing: ${missing}`);
  assert.ok(missing.some((m) => m.includes('履行地点')), `missing: ${missing}`);
  assert.equal(await page.locator('#sign').count(), 0, 'an incomplete agreement cannot be signed');
  await shot(page, 'agreement-incomplete');

  await page.locator('[name=facts_and_liability]').fill('经现场丈量，李春生所建围墙越界0.4米，李春生负主要责任。');
  await page.locator('[name=rights_obligations]').fill('李春生拆除越界部分围墙；王德发不再追究其他责任。');
  await page.locator('[name=performance_method]').fill('李春生自行拆除，村委会派人见证');
  await page.locator('[name=performance_place]').fill('白沙村3组');
  await page.locator('[name=performance_deadline]').fill('2027-01-15');
  await page.locator('#save-agreement').click();
  await page.locator('#sign').waitFor();
  const left = await page.locator('ul.missing li').allTextContents();
  assert.ok(left.every((m) => m.includes('（五）')), `only the signatures are left: ${left}`);
  await page.locator('#sign').click();
  await page.locator('#sign-yes').click();
  await page.locator('#agreement-complete').waitFor();
  assert.equal(await page.locator('[name=parties_details]').getAttribute('readonly'), '');
  await shot(page, 'agreement-signed');
  const agreementId = decodeURIComponent(page.url().split('/').pop());
  await page.locator('#print-agreement').waitFor();

  // The paper form, as the print button hands it to the browser.
  const form = await page.context().newPage();
  await form.goto(`/print/agreement?id=${agreementId}&lang=zh`);
  assert.match(await form.locator('body').textContent(), /人民调解协议书/);
  assert.doesNotMatch(await form.locator('body').textContent(), /本协议尚不完整/);
  const pdf = await form.pdf({ format: 'A4', printBackground: true });
  assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
  mkdirSync(SHOTS, { recursive: true });
  writeFileSync(path.join(SHOTS, 'village-agreement.pdf'), pdf);
  await shot(form, 'agreement-paper');
  // The paper form as it prints without a ticket: the numbers masked.
  assert.doesNotMatch(await form.locator('body').textContent(), /431228197202284460|13800138000/);
  await form.close();

  // The paper the parties sign carries their numbers in full: the button
  // says the reveal is recorded, asks for a ticket and prints with it.
  assert.match(await page.locator('#print-full-note').textContent(), /查看完整号码会记入案件记录。/);
  await page.locator('#print-agreement-full').click();
  const full = page.frameLocator('iframe.print');
  await full.locator('body', { hasText: '431228197202284460' }).waitFor();
  assert.match(await full.locator('body').textContent(), /人民调解协议书/);
  const src = await page.locator('iframe.print').getAttribute('src');
  assert.match(src, /&ticket=[0-9a-f]{32}$/);
  // Used once, the ticket prints no more; the masked print stays masked.
  const again = await page.context().newPage();
  const reused = await again.goto(src);
  assert.equal(reused.status(), 403);
  assert.match(await again.locator('body').textContent(), /ticket/);
  await again.goto(`/print/agreement?id=${agreementId}&lang=zh`);
  assert.doesNotMatch(await again.locator('body').textContent(), /431228197202284460/);
  await again.close();

  // Signed means locked: a change is a supplementary agreement, begun from
  // the signed one, empty, saying what it supplements.
  await page.locator('#new-supplement').click();
  await page.locator('#agreement-supplements').waitFor();
  assert.match(await page.locator('#agreement-supplements').textContent(), /本协议是对第1份协议（20\d\d-\d\d-\d\d签署）的补充协议/);
  assert.match(await page.locator('#view h2').textContent(), /^补充协议/);
  assert.equal(await page.locator('[name=parties_details]').inputValue(), '');
  assert.equal(await page.locator('[name=parties_details]').getAttribute('readonly'), null);
  await page.locator('[name=rights_obligations]').fill('李春生另行补偿王德发围墙拆除期间的青苗损失500元。');
  await page.locator('#save-agreement').click();
  await page.locator('#agreement-incomplete').waitFor();
  const supplementId = decodeURIComponent(page.url().split('/').pop());
  assert.notEqual(supplementId, agreementId);
  assert.match(await page.locator('#agreement-supplements').textContent(), /第1份协议/);
  await shot(page, 'agreement-supplement');
  await openCase();
  const listed = page.locator(`#agreements li[data-id="${supplementId}"]`);
  assert.match(await listed.textContent(), /补充协议（补充第1份协议）/);
  assert.match(await listed.textContent(), /未签署/);
  assert.doesNotMatch(await page.locator(`#agreements li[data-id="${agreementId}"]`).textContent(), /补充协议/);
  assert.equal(await page.locator('#case-status').textContent(), '达成协议');
  const paper = await page.context().newPage();
  await paper.goto(`/print/agreement?id=${supplementId}&lang=zh`);
  const text = await paper.locator('body').textContent();
  assert.match(text, /补充协议/);
  assert.match(text, /本协议是对编号为\s*（20\d\d）白沙调字第[A-Z0-9]{2}-\d{4}号\s*的人民调解协议书的补充/);
  assert.match(text, /青苗损失500元/);
  await shot(paper, 'agreement-supplement-paper');
  await paper.close();
});

test('sync now sends the case to the hub', { timeout: TIMEOUT }, async () => {
  const message = await syncNow();
  assert.match(message, /同步完成/);
  assert.equal(await page.locator('#pending').textContent(), '0');
  const exported = (await hub.export('baisha')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const c = exported.find((x) => x.id === caseId);
  assert.ok(c, 'the case is in the hub export');
  assert.equal(c.title, TITLE);
  assert.equal(c.parties.length, 2);
  await shot(page, 'synced');
});

test("a party's name and phone are corrected, and the correction reaches the hub", { timeout: TIMEOUT }, async () => {
  await openCase();
  const row = page.locator('#parties tbody tr').nth(1);
  assert.match(await row.locator('td.name').textContent(), /^李春生$/);
  await row.locator('.edit-party').click();
  const form = page.locator('#party-form');
  await form.waitFor();
  // The form starts from the party's details, but no number in full: the
  // masked one is only the field's hint, and an empty field keeps it.
  assert.equal(await form.locator('[name=name]').inputValue(), '李春生');
  assert.equal(await form.locator('[name=role]').inputValue(), '被申请人');
  assert.equal(await form.locator('[name=phone]').inputValue(), '');
  assert.equal(await form.locator('[name=phone]').getAttribute('placeholder'), '139****5678');
  assert.doesNotMatch(await page.locator('#view').innerHTML(), /13912345678/);
  // The agreement is signed: the form says what a correction means for it.
  await form.locator('#party-signed').waitFor();

  // A wrong number is refused, and nothing changes.
  await form.locator('[name=name]').fill('李春升');
  await form.locator('[name=phone]').fill('139-1234-567a');
  await form.locator('#save-party').click();
  await form.locator('.problem[data-for=phone]').filter({ hasText: '数字' }).waitFor();
  assert.equal(await form.locator('[name=phone]').getAttribute('aria-invalid'), 'true');
  await shot(page, 'party-problem');
  assert.equal((await exportedCase(laptop, caseId)).parties[1].name, '李春生');

  await form.locator('[name=phone]').fill('13912345679');
  await form.locator('#save-party').click();
  await page.locator('#parties td.name', { hasText: '李春升' }).waitFor();
  assert.equal(await page.locator('#party-form').count(), 0);
  assert.match(await page.locator('#notice').textContent(), /李春升 的信息已修改/);
  const phones = await page.locator('#parties td.phone').allTextContents();
  assert.deepEqual(phones, ['138****8000', '139****5679']);
  const roles = await page.locator('#parties td.role').allTextContents();
  assert.deepEqual(roles, ['申请人', '被申请人']);
  const local = await exportedCase(laptop, caseId);
  assert.equal(local.parties[1].name, '李春升');
  assert.equal(local.parties[0].id_no, '4312**********4460', 'the other party is as it was');
  await shot(page, 'party-corrected');

  // The same change through `hamlet sync`, as the daemon would send it.
  await laptop.sync();
  const exported = (await hub.export('baisha')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const c = exported.find((x) => x.id === caseId);
  assert.ok(c, 'the case is in the hub export');
  assert.deepEqual(c.parties.map((p) => p.name), ['王德发', '李春升']);
  assert.equal(c.parties[1].phone, '139****5679');
});

test("the township's request for a correction shows on Today after a sync", { timeout: TIMEOUT }, async () => {
  await hub.run(['case', 'correct', caseId, COMMENT]);
  assert.match(await syncNow(), /同步完成/);
  const item = page.locator(`#today-corrections li[data-id="${caseId}"]`);
  await item.waitFor();
  assert.match(await item.textContent(), new RegExp(COMMENT));
  await item.locator('textarea').fill('已补充宅基地证编号，照片已存档。');
  await item.locator('button[type=submit]').click();
  await item.locator('.message.ok').waitFor();
  await shot(page, 'correction');
  assert.match(await syncNow(), /同步完成/);
  const c = (await hub.export('baisha')).split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((x) => x.id === caseId);
  assert.ok(JSON.stringify(c).includes('已补充宅基地证编号'), 'the answer reached the hub');
});

test('the list finds the case; the pages switch to English', { timeout: TIMEOUT }, async () => {
  await page.goto('/#/cases');
  await page.locator('input[name=q]').fill('李春生');
  await page.locator('input[name=q]').press('Enter');
  await page.locator(`#cases tr[data-id="${caseId}"]`).waitFor();
  assert.equal(await page.locator('#cases tbody tr').count(), 1);
  await page.goto('/#/contacts');
  await page.locator('#contacts').waitFor();
  assert.match(await page.locator('#contacts').textContent(), /139\*\*\*\*5679/);
  await page.locator('#lang').click();
  await page.locator('nav a[data-view=today]', { hasText: 'Today' }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  await page.goto('/#/today');
  await page.locator('#sync').waitFor();
  await shot(page, 'today-en');
  await openCase();
  await page.locator('#agreements .badge.supplement', { hasText: 'Supplementary (to agreement 1)' }).waitFor();
  await page.locator('#lang').click();
});

test("the launcher's page opens the pages in a browser without the session", { timeout: TIMEOUT }, async () => {
  const dir = path.join(process.env.XDG_RUNTIME_DIR, 'hamlet');
  assert.equal(readFileSync(path.join(dir, 'ui.url'), 'utf8'), `${ui.firstUrl}\n`);
  // A fresh context: no cookie, as the secretary's browser after a restart.
  const context = await page.context().browser().newContext({ locale: 'zh-CN', viewport: page.viewportSize() });
  try {
    const launched = await context.newPage();
    const firstVisits = [];
    launched.on('request', (r) => {
      if (r.url().startsWith(`${ui.url}/?token=`)) {
        firstVisits.push(r);
      }
    });
    await launched.goto(pathToFileURL(path.join(dir, 'ui.html')).href);
    await launched.waitForURL((url) => url.origin === ui.url && url.pathname === '/' && !url.search.includes('token'));
    await launched.locator('#village-name').filter({ hasText: '白沙村' }).waitFor();
    // The first visit came from the file: page, another site to the browser,
    // and was let in by its token; the refresh to "/" brought the cookie.
    assert.equal(firstVisits.length, 1);
    assert.equal((await firstVisits[0].allHeaders())['sec-fetch-site'], 'cross-site');
    await shot(launched, 'launcher');
  } finally {
    await context.close();
  }
});
