// SPDX-License-Identifier: MIT
// harness.test.mjs - the harness itself, on what every page test builds:
// a township with two villages whose laptops import their cases from the
// reference data offline, enrol and sync; the hub holds byte for byte each
// laptop's ledger, and a browser signed in with signIn() sees the villages
// with their devices and cases through the hub's API.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';

import { TIMEOUT, dataFile, openBrowser, shot, signIn, startHub, teardown } from './lib/harness.mjs';

const CASES = dataFile('cases-200.jsonl');

let hub;
let page;
let laptops;

before(async () => {
  hub = await startHub();
  await hub.addUser('admin', 'township-admin-1', 'admin');
  await hub.addVillage('baisha', '白沙村');
  await hub.addVillage('baishuwan', '柏树湾村');
  laptops = [
    await hub.addAgent('a1', 'baisha', { label: '村委会笔记本' }),
    await hub.addAgent('a2', 'baisha', { label: '调解室笔记本' }),
    await hub.addAgent('b1', 'baishuwan'),
  ];
  ({ page } = await openBrowser(hub));
}, { timeout: TIMEOUT });

after(teardown, { timeout: TIMEOUT });

// How many of the reference data's cases belong to a village (by its name).
function casesOf(name) {
  return readFileSync(CASES, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && JSON.parse(line).village === name).length;
}

test('laptops sync to the hub, and the browser sees it', { timeout: TIMEOUT }, async () => {
  const [a1, a2, b1] = laptops;
  await a1.import(CASES);
  await b1.import(CASES);
  await a1.sync();
  await b1.sync();
  await a2.sync();

  const baisha = await hub.export('baisha');
  assert.equal(baisha.trim().split('\n').length, casesOf('白沙村'));
  assert.equal(await a1.export(), baisha);
  assert.equal(await a2.export(), baisha, 'the second laptop received its village');
  assert.equal(await b1.export(), await hub.export('baishuwan'));

  const me = await signIn(page, hub, 'admin', 'township-admin-1');
  assert.equal(me.role, 'admin');
  const villages = await page.evaluate(async () => (await fetch('/api/villages')).json());
  const byCode = Object.fromEntries(villages.villages.map((v) => [v.code, v]));
  assert.deepEqual(byCode.baisha, { code: 'baisha', name: '白沙村', devices: 2, cases: casesOf('白沙村') });
  assert.deepEqual(byCode.baishuwan, {
    code: 'baishuwan', name: '柏树湾村', devices: 1, cases: casesOf('柏树湾村'),
  });
  await page.goto('/');
  await page.waitForLoadState('networkidle');
  await shot(page, 'signed-in-admin');
});
