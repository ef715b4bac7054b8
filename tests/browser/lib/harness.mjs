// SPDX-License-Identifier: MIT
// harness.mjs - everything a browser test imports, in one place:
//
//   import { test, after } from 'node:test';
//   import { startHub, openBrowser, shot, teardown, TIMEOUT } from './lib/harness.mjs';
//
// startHub() and openBrowser() remember what they start; teardown() stops
// all of it (register it with after(teardown)), and the processes are killed
// in any case when the test process exits.
import { closeAllBrowsers } from './browser.mjs';
import { stopAllHubs, stopAllUis } from './hub.mjs';

export { AGENT_BIN, BUILD, CHROMIUM, DATA, HUB_BIN, ROOT, SHOTS, dataFile } from './paths.mjs';
export { Agent, Hub, VillageUi, spkiHash, startHub, stopAllHubs, stopAllUis } from './hub.mjs';
export { VIEWPORT, closeAllBrowsers, openBrowser, shot, signIn } from './browser.mjs';
export { run } from './procs.mjs';

// A test's time limit, generous for a slow shared two-core machine: pass it
// as test('...', { timeout: TIMEOUT }, ...) and to before() hooks.
export const TIMEOUT = 300_000;

// teardown(): closes every browser, stops every village UI, then every hub
// (their folders removed unless HAMLET_KEEP_TMP is set).
export async function teardown() {
  await closeAllBrowsers();
  await stopAllUis();
  await stopAllHubs();
}
