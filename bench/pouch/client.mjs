// SPDX-License-Identifier: MIT
//
// Village side of the PouchDB baseline: one local PouchDB ("laptop", in
// memory) kept for the life of the process, so that replication checkpoints
// carry over from one workload to the next as they would on a real laptop.
// It reads one JSON command a line on stdin and answers one JSON line on
// stdout per command; logs go to stderr.
//
//   {"cmd":"load","file":F,"count":N}   put the first N (default all) cases of F
//   {"cmd":"edit","file":F,"side":S}    apply F's edit scripts (only side S if given)
//   {"cmd":"push","url":U}              one-way replication laptop -> U, timed
//   {"cmd":"sync","url":U}              two-way replication, timed
//   {"cmd":"quit"}
//
// Usage: node client.mjs [--ca FILE] [--keepalive]
// The server's certificate is trusted through NODE_EXTRA_CA_CERTS or --ca;
// certificate checks stay on. Each push or sync gets a fresh https.Agent that
// is destroyed afterwards, so every workload pays its own TCP and TLS
// handshakes. By default that agent does not keep connections alive, which is
// what PouchDB does in Node when given no agent (node-fetch then sends
// "Connection: close" on every request); --keepalive lets the requests of
// one workload share connections instead, as a browser would.

import { readFileSync } from 'node:fs';
import https from 'node:https';
import { createInterface } from 'node:readline';
import { rootCertificates } from 'node:tls';
import { parseArgs } from 'node:util';
import PouchDB from 'pouchdb';
import memoryAdapter from 'pouchdb-adapter-memory';
import { applyOps, readJsonl } from './edits.mjs';

const { values: opt } = parseArgs({
  options: {
    ca: { type: 'string' },
    keepalive: { type: 'boolean', default: false },
  },
});
// With --ca, trust that certificate on top of the usual roots.
const ca = opt.ca ? [...rootCertificates, readFileSync(opt.ca, 'utf8')] : undefined;

// Keep stdout for answers only, whatever a library prints.
console.log = console.info = console.error;

PouchDB.plugin(memoryAdapter);
const laptop = new PouchDB('laptop', { adapter: 'memory' });

// A remote database whose requests all go through a new agent; the caller
// destroys the agent when the workload is done.
function remote(url) {
  const agent = new https.Agent({ keepAlive: opt.keepalive, ca });
  const fetch = (u, options) => PouchDB.fetch(u, { ...options, agent });
  return { db: new PouchDB(url, { fetch }), agent };
}

async function load({ file, count }) {
  let cases = await readJsonl(file);
  if (count !== undefined) cases = cases.slice(0, count);
  let docs = 0;
  for (let i = 0; i < cases.length; i += 100) {
    const batch = cases.slice(i, i + 100).map((c) => ({ _id: c.id, ...c }));
    for (const r of await laptop.bulkDocs(batch)) {
      if (r.error) throw new Error(`load ${r.id}: ${r.message || r.name}`);
      docs += 1;
    }
  }
  return { docs };
}

async function edit({ file, side }) {
  let edits = 0;
  for (const script of await readJsonl(file)) {
    if (side !== undefined && script.side !== side) continue;
    try {
      const doc = await laptop.get(script.id);
      await laptop.put(applyOps(doc, script.ops));
    } catch (err) {
      throw new Error(`edit ${script.id}: ${err.message}`);
    }
    edits += 1;
  }
  return { edits };
}

// Runs one replication with PouchDB's default batch_size and batches_limit.
async function replicate({ url }, twoWay) {
  const { db, agent } = remote(url);
  try {
    const start = performance.now();
    const result = twoWay ? await PouchDB.sync(laptop, db) : await PouchDB.replicate(laptop, db);
    const ms = Math.round((performance.now() - start) * 10) / 10;
    if (!twoWay) {
      return { ms, docs_written: result.docs_written, docs_read: result.docs_read };
    }
    const { push, pull } = result;
    return {
      ms,
      docs_written: push.docs_written + pull.docs_written,
      docs_read: push.docs_read + pull.docs_read,
      pushed: push.docs_written,
      pulled: pull.docs_written,
    };
  } finally {
    agent.destroy();
  }
}

const commands = {
  load,
  edit,
  push: (c) => replicate(c, false),
  sync: (c) => replicate(c, true),
};

function answer(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  if (line.trim() === '') continue;
  let command;
  try {
    command = JSON.parse(line);
  } catch (err) {
    answer({ ok: false, error: `bad JSON: ${err.message}` });
    continue;
  }
  if (command.cmd === 'quit') {
    answer({ ok: true });
    break;
  }
  const run = commands[command.cmd];
  if (!run) {
    answer({ ok: false, error: `unknown command ${JSON.stringify(command.cmd)}` });
    continue;
  }
  try {
    answer({ ok: true, ...(await run(command)) });
  } catch (err) {
    console.error(`${command.cmd}:`, err);
    answer({ ok: false, error: String(err && err.message ? err.message : err) });
  }
}
process.exit(0);
