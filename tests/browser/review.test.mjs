// SPDX-License-Identifier: MIT
// review.test.mjs - the township's review pages as a reviewer uses them,
// against a real hub whose villages' laptops imported the reference data
// and synced: sign in; filter the ledger and search it in Chinese; open a
// case with its history, reveal its numbers and print it; decide a conflict
// between two laptops and see the decision in a laptop's export after its
// sync; set a deadline and see the case in the village's overdue list after
// a sync; read the figures page against `hamlet-hub report --json`; add a
// device and see its enrolment code as text and QR. Each step saves a
// screenshot.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { TIMEOUT, dataFile, openBrowser, shot, startHub, teardown } from './lib/harness.mjs';

const CASES = dataFile('cases-200.jsonl');
const REVIEWER = '王芳';
const PASSWORD = '山路十八弯-2026';

let hub;
let page;
let a1;
let a2;
let y1;

// The reference data's cases of a village (by its name), parsed.
function casesOf(name) {
  return readFileSync(CASES, 'utf8').split('\n').filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l)).filter((c) => c.village === name);
}

// Does a case's text (title, facts, claims, its events' notes) hold text?
function mentions(c, text) {
  return [c.title, c.facts, c.claims, ...(c.events || []).map((e) => e.note)]
    .some((t) => typeof t === 'string' && t.includes(text));
}

// The cases the ledger page shows now, by their ids.
async function shownIds() {
  await page.locator('#total').waitFor();
  return page.locator('#cases tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.id));
}

// The total the ledger page says ("共 N 件").
async function shownTotal() {
  const text = await page.locator('#total').textContent();
  return Number(text.replace(/[^0-9]/g, ''));
}

// Go to a view of the pages and wait for its data.
async function open(hash, ready) {
  await page.goto(`/${hash}`);
  await page.locator(ready).first().waitFor();
}

// The first exported case of a laptop's ledger with this id.
async function exported(agent, id) {
  const line = (await agent.export()).split('\n').find((l) => l.includes(`"id":"${id}"`));
  return line ? JSON.parse(line) : null;
}

before(async () => {
  hub = await startHub({ config: '[hub]\nurl = https://hub.township.example:8443\n' });
  await hub.addUser(REVIEWER, PASSWORD, 'admin');
  await hub.addVillage('baisha', '白沙村');
  await hub.addVillage('yangliu', '杨柳村');
  a1 = await hub.addAgent('a1', 'baisha', { label: '村委会笔记本' });
  a2 = await hub.addAgent('a2', 'baisha', { label: '调解室笔记本' });
  y1 = await hub.addAgent('y1', 'yangliu', { label: '杨柳村笔记本' });
  await a1.import(CASES);
  await y1.import(CASES);
  await a1.sync();
  await y1.sync();
  await a2.sync();
  ({ page } = await openBrowser(hub));
}, { timeout: TIMEOUT });

after(teardown, { timeout: TIMEOUT });

test('a reviewer signs in and sees the ledger', { timeout: TIMEOUT }, async () => {
  await page.goto('/');
  await page.waitForURL(/\/login$/);
  await page.locator('#name').fill(REVIEWER);
  await page.locator('#password').fill(PASSWORD);
  await page.locator('#submit').click();
  await page.waitForURL((url) => url.pathname === '/');
  await page.locator('#cases').waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
  assert.equal(await shownTotal(), casesOf('白沙村').length + casesOf('杨柳村').length);
  assert.match(await page.locator('#who').textContent(), new RegExp(REVIEWER));
  await shot(page, 'ledger');
});

test('filters and Chinese search narrow the ledger', { timeout: TIMEOUT }, async () => {
  const baisha = casesOf('白沙村');
  const both = baisha.concat(casesOf('杨柳村'));
  await open('#/ledger', '#cases');
  await page.locator('select[name=village]').selectOption('baisha');
  await page.locator('#filters button[type=submit]').click();
  await page.waitForURL(/village=baisha/);
  await page.locator('#cases').waitFor();
  assert.equal(await shownTotal(), baisha.length);
  const ids = await shownIds();
  assert.ok(ids.every((id) => baisha.some((c) => c.id === id)), 'only 白沙村 cases');

  // Two characters (below a trigram) and four, across both villages.
  for (const word of ['纠纷', '土地', '宅基地']) {
    const want = both.filter((c) => mentions(c, word)).map((c) => c.id).sort();
    await open('#/ledger', '#filters');
    await page.locator('input[name=q]').fill(word);
    await page.locator('input[name=q]').press('Enter');
    await page.waitForURL(new RegExp(`q=${encodeURIComponent(word)}`));
    await page.locator('#total').waitFor();
    assert.equal(await shownTotal(), want.length, `search ${word}`);
    if (want.length > 0 && want.length <= 50) {
      assert.deepEqual((await shownIds()).sort(), want, `search ${word}`);
    }
    if (word === '宅基地') {
      await shot(page, 'search');
    }
  }

  // Filters combine: a category within a village.
  const category = baisha[0].category;
  await open(`#/ledger?village=baisha&category=${category}`, '#total');
  assert.equal(await shownTotal(), baisha.filter((c) => c.category === category).length);
});

test('a case shows its facts, masked numbers, history and print view', { timeout: TIMEOUT }, async () => {
  const c = casesOf('白沙村').find((k) => (k.parties || []).some((p) => p.phone));
  await open(`#/case/${c.id}`, '#history');
  assert.match(await page.locator('#case-title').textContent(), new RegExp(c.title));
  const phones = await page.locator('#parties td.phone').allTextContents();
  assert.ok(phones.some((p) => p.includes('*')), 'numbers masked');
  const history = await page.locator('#history').textContent();
  assert.ok(history.includes('村委会笔记本'), 'the history names the laptop that made the case');
  await shot(page, 'case');

  await page.locator('#reveal').click();
  await page.locator('#reveal').waitFor({ state: 'detached' });
  const revealed = await page.locator('#parties td.phone').allTextContents();
  assert.ok(revealed.includes(c.parties.find((p) => p.phone).phone), 'numbers in full on request');
  const events = await page.locator('#events').textContent();
  assert.ok(events.includes('查看号码'), 'the reveal is an event of the case');

  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.locator('#actions').isVisible(), false, 'actions are not printed');
  assert.equal(await page.locator('#history').isVisible(), true);
  await shot(page, 'case-print');
  await page.emulateMedia({ media: 'screen' });
});

test('a conflict decided in the browser reaches the laptops', { timeout: TIMEOUT }, async () => {
  const c = casesOf('白沙村')[1];
  await a1.run(['case', 'set', c.id, 'title=一号笔记本改的标题']);
  await a2.run(['case', 'set', c.id, 'title=二号笔记本改的标题']);
  await a1.sync();
  await a2.sync();

  await open('#/conflicts', 'table.conflicts, #view p.muted');
  const row = page.locator('tr[data-conflict]', { hasText: '一号笔记本改的标题' });
  await row.waitFor();
  const text = await row.textContent();
  assert.ok(text.includes('二号笔记本改的标题'), 'both values side by side');
  assert.ok(text.includes('村委会笔记本') && text.includes('调解室笔记本'), 'who made each');
  await shot(page, 'conflicts');

  await row.locator('input[name=value]').fill('两台笔记本商定的标题');
  await row.locator('button.write-value').click();
  await page.locator('#notice.ok').waitFor();
  await row.waitFor({ state: 'detached' });
  await shot(page, 'conflict-decided');

  await a1.sync();
  await a2.sync();
  assert.equal((await exported(a1, c.id)).title, '两台笔记本商定的标题');
  assert.equal((await exported(a2, c.id)).title, '两台笔记本商定的标题');
  assert.equal(await a1.export(), await hub.export('baisha'));
});

test('a deadline set in the browser makes the case overdue in the village', { timeout: TIMEOUT }, async () => {
  const open_ = ['registered', 'accepted', 'investigating', 'mediating'];
  const c = casesOf('白沙村').find((k) => open_.includes(k.status));
  assert.ok(c, 'an open case in the data');
  const before_ = JSON.parse(await a1.run(['list', 'overdue', '--json']));
  assert.ok(!before_.some((k) => k.id === c.id && k.due === '2025-01-02') );

  await open(`#/case/${c.id}`, '#deadline-form');
  await page.locator('#deadline-form input[name=date]').fill('2025-01-02');
  await page.locator('#deadline-form input[name=note]').fill('请在元旦后办结');
  await page.locator('#deadline-form button[type=submit]').click();
  await page.locator('#notice.ok').waitFor();
  assert.match(await page.locator('dl.facts').textContent(), /2025-01-02/);
  await shot(page, 'deadline-set');

  await a1.sync();
  const overdue = JSON.parse(await a1.run(['list', 'overdue', '--json']));
  const found = overdue.find((k) => k.id === c.id);
  assert.ok(found, 'the village sees the case overdue after its sync');
  assert.equal(found.due, '2025-01-02');

  await open('#/lists?which=overdue&village=baisha', '#list');
  await page.locator(`#list tr[data-id="${c.id}"]`).waitFor();
  assert.equal(await page.locator(`#list tr[data-id="${c.id}"]`).count(), 1, 'in the hub\'s list too');
  await shot(page, 'overdue-list');
});

test('the figures page shows what hamlet-hub report --json says', { timeout: TIMEOUT }, async () => {
  const report = JSON.parse(await hub.run(['report', '--year', '2024', '--json']));
  await open('#/figures?year=2024', '#figures');
  const rows = report.villages.concat([report.total]);
  for (const v of rows) {
    const row = page.locator(`#figures tr[data-village="${v.village === null ? '' : v.village}"]`);
    const cell = async (k) => (await row.locator(`td[data-figure="${k}"]`).textContent()).trim();
    for (const k of ['received', 'concluded', 'overdue', 'followups_due', 'followups_done']) {
      assert.equal(await cell(k), String(v[k]), `${v.village || 'total'} ${k}`);
    }
    for (const k of ['participation', 'success', 'satisfaction']) {
      const r = v[k];
      const shown = await cell(k);
      if (r.percent) {
        assert.ok(shown.startsWith(`${r.percent} (${r.num}/${r.den})`), `${v.village || 'total'} ${k}: ${shown}`);
      } else {
        assert.equal(shown, '无数据');
      }
    }
  }
  assert.equal(await page.locator('#chart-categories rect').count(), Object.keys(report.total.received_by_category).length);
  assert.ok(await page.locator('#chart-rates rect').count() >= 3);
  // The download, as the page's link asks for it (in the page's language;
  // fetch's text() drops the byte-order mark that spreadsheets want).
  const href = await page.locator('#csv').getAttribute('href');
  const csv = await page.evaluate(async (url) => (await fetch(url)).text(), href);
  const cli = await hub.run(['report', '--year', '2024', '--csv', '--lang', 'zh']);
  assert.equal(csv, cli.replace(/^\uFEFF/, ''));
  await shot(page, 'figures');
});

test('devices: the list, and a new laptop\'s enrolment code with its QR', { timeout: TIMEOUT }, async () => {
  await open('#/devices', '#devices');
  const rows = await page.locator('#devices tbody tr').count();
  assert.equal(rows, 3);
  assert.match(await page.locator('#devices').textContent(), /村委会笔记本/);
  await page.locator('#add-device select[name=village]').selectOption('yangliu');
  await page.locator('#add-device input[name=label]').fill('新笔记本');
  await page.locator('#add-device button[type=submit]').click();
  const code = (await page.locator('#enrol-code').textContent()).trim();
  assert.ok(code.includes('https://hub.township.example:8443'), code);
  assert.equal(await page.locator('#enrolment .qr svg path').count(), 1);
  await page.locator('#devices tbody tr', { hasText: '新笔记本' }).waitFor();
  assert.equal(await page.locator('#devices tbody tr').count(), 4, 'the list shows the new one');
  await shot(page, 'device-added');
});

test('English on request', { timeout: TIMEOUT }, async () => {
  await open('#/ledger', '#cases');
  await page.locator('#lang').click();
  await page.locator('nav a[data-view=ledger]', { hasText: 'Ledger' }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), 'en');
  await shot(page, 'ledger-en');
  await page.locator('#lang').click();
  await page.locator('nav a[data-view=ledger]', { hasText: '台账' }).waitFor();
});
