// SPDX-License-Identifier: MIT
// paths.mjs - where the browser tests find things: the repository, the
// programs of the build ($BUILD, default build/, as make passes it), the
// reference data, the screenshots ($BROWSER_SHOTS, default
// $BUILD/browser-shots) and the browser ($CHROMIUM, default Debian's).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BUILD = path.resolve(ROOT, process.env.BUILD || 'build');
export const HUB_BIN = process.env.HAMLET_HUB || path.join(BUILD, 'hamlet-hub');
export const AGENT_BIN = process.env.HAMLET_AGENT || path.join(BUILD, 'hamlet');
export const SHOTS = path.resolve(ROOT, process.env.BROWSER_SHOTS || path.join(BUILD, 'browser-shots'));
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// The reference data (cases-200.jsonl and the like): $HAMLET_DATA, else
// ../shared/data beside the repository, as tools/demo.sh looks for it.
export const DATA = [
  process.env.HAMLET_DATA,
  path.resolve(ROOT, '../shared/data'),
  path.resolve(ROOT, '../../shared/data'),
].find((dir) => dir && existsSync(path.join(dir, 'cases-200.jsonl')));

// dataFile(name): the absolute path of a file of the reference data;
// throws when there is no such file, naming where it looked.
export function dataFile(name) {
  const file = DATA && path.join(DATA, name);
  if (!file || !existsSync(file)) {
    throw new Error(`no reference data file ${name} (set HAMLET_DATA; looked in ${DATA ?? '../shared/data'})`);
  }
  return file;
}
