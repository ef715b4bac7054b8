// SPDX-License-Identifier: MIT
//
// Township side of the PouchDB baseline: a CouchDB-compatible HTTPS server
// (express-pouchdb over PouchDB with the in-memory adapter) that the client's
// replications talk to. It counts every request it serves, by method and
// path, and offers a small control API on a separate plain-HTTP port:
//
//   GET  /stats     {"requests": N, "by_route": {"POST /cases/_bulk_docs": 10, ...}}
//   POST /reset     zero the counters
//   POST /edit      {"id": ID, "ops": [...], "db": "cases"(optional)}: apply an
//                   edit script to that document in the server's own database
//                   (the township's edits, made without any replication)
//   POST /shutdown  answer, then exit
//
// Usage: node server.mjs --cert FILE --key FILE --port-file FILE
//                        --control-port-file FILE [--port N] [--control-port N]
//                        [--no-compression]
// Both servers listen on 127.0.0.1; port 0 (the default) takes a free port.
// Each port is written to its file once listening. SIGTERM exits cleanly.

import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { parseArgs } from 'node:util';
import express from 'express';
import expressPouchdb from 'express-pouchdb';
import PouchDB from 'pouchdb';
import memoryAdapter from 'pouchdb-adapter-memory';
import { applyOps } from './edits.mjs';

const { values: opt } = parseArgs({
  options: {
    cert: { type: 'string' },
    key: { type: 'string' },
    'port-file': { type: 'string' },
    'control-port-file': { type: 'string' },
    port: { type: 'string', default: '0' },
    'control-port': { type: 'string', default: '0' },
    'no-compression': { type: 'boolean', default: false },
  },
});
for (const name of ['cert', 'key', 'port-file', 'control-port-file']) {
  if (!opt[name]) {
    console.error(`server.mjs: --${name} is required`);
    process.exit(2);
  }
}

// All databases live in memory: nothing is left on disk between runs.
PouchDB.plugin(memoryAdapter);
const MemPouch = PouchDB.defaults({ adapter: 'memory' });

// Request counters, by "METHOD /path" (query string left out).
let requests = 0;
let byRoute = {};

const app = express();
app.use((req, res, next) => {
  const route = `${req.method} ${req.url.split('?')[0]}`;
  requests += 1;
  byRoute[route] = (byRoute[route] || 0) + 1;
  next();
});
// The part of CouchDB's API that PouchDB replication needs, plus an
// in-memory config so that "GET /" reports a server uuid as CouchDB does:
// PouchDB then derives replication ids (and so finds its checkpoints) from
// that uuid rather than from the URL, whose port may change between runs.
// Nothing is written to disk. Responses are gzipped when the client asks
// (express-pouchdb's default); --no-compression turns that off, as CouchDB
// itself does not compress JSON responses.
app.use(expressPouchdb(MemPouch, {
  mode: 'minimumForPouchDB',
  inMemoryConfig: true,
  overrideMode: {
    include: ['config-infrastructure'],
    exclude: opt['no-compression'] ? ['compression'] : [],
  },
}));

const tls = { cert: readFileSync(opt.cert), key: readFileSync(opt.key) };
const server = https.createServer(tls, app);
const control = http.createServer(handleControl);

// Opened on demand; shares its storage with the instance that
// express-pouchdb opens for the same name.
const localDbs = new Map();
function database(name) {
  if (!localDbs.has(name)) localDbs.set(name, new MemPouch(name));
  return localDbs.get(name);
}

async function handleControl(req, res) {
  const reply = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body) + '\n');
  };
  try {
    const route = `${req.method} ${req.url.split('?')[0]}`;
    if (route === 'GET /stats') {
      reply(200, { requests, by_route: byRoute });
    } else if (route === 'POST /reset') {
      requests = 0;
      byRoute = {};
      reply(200, { ok: true });
    } else if (route === 'POST /edit') {
      const script = JSON.parse(await readBody(req));
      const db = database(script.db || 'cases');
      try {
        const doc = applyOps(await db.get(script.id), script.ops || []);
        const result = await db.put(doc);
        reply(200, { ok: true, id: result.id, rev: result.rev });
      } catch (err) {
        reply(err.status === 404 ? 404 : 500, { ok: false, error: `edit ${script.id}: ${err.message}` });
      }
    } else if (route === 'POST /shutdown') {
      reply(200, { ok: true });
      res.on('finish', shutdown);
    } else {
      reply(404, { ok: false, error: `no such control route: ${route}` });
    }
  } catch (err) {
    reply(500, { ok: false, error: String(err && err.message ? err.message : err) });
  }
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function listen(srv, port) {
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(Number(port), '127.0.0.1', () => resolve(srv.address().port));
  });
}

// Written whole, then renamed, so that a reader polling for the file never
// sees half a number.
function writePortFile(file, port) {
  writeFileSync(`${file}.tmp`, `${port}\n`);
  renameSync(`${file}.tmp`, file);
}

let stopping = false;
function shutdown() {
  if (stopping) return;
  stopping = true;
  for (const srv of [server, control]) {
    srv.close();
    srv.closeAllConnections();
  }
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

const controlPort = await listen(control, opt['control-port']);
const port = await listen(server, opt.port);
writePortFile(opt['control-port-file'], controlPort);
writePortFile(opt['port-file'], port);
console.log(`control on 127.0.0.1:${controlPort}`);
console.log(`listening on 127.0.0.1:${port}`);
