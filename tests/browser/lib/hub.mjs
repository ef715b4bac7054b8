// SPDX-License-Identifier: MIT
// hub.mjs - a real township for the browser tests: `hamlet-hub` serving
// HTTPS on a free loopback port with the certificate it makes itself, its
// accounts, villages and devices, and village laptops (`hamlet`) enrolled
// with it that import, sync and export. Everything lives in one temporary
// folder, removed by stop() unless HAMLET_KEEP_TMP is set.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { AGENT_BIN, HUB_BIN } from './paths.mjs';
import { programEnv, run, startReading, startServer, stopServer } from './procs.mjs';

const START_TIMEOUT_MS = 60_000; // a slow shared machine may take a while
const START_ATTEMPTS = 5; // a free port can be taken between pick and bind

const started = new Set(); // hubs not yet stopped, for stopAllHubs()

// When the test process ends without stop() (a signal from the runner), its
// hubs' folders go too; procs.mjs has killed the programs by then.
process.on('exit', () => {
  for (const hub of started) {
    hub.removeDir();
  }
});

// A port on 127.0.0.1 that nothing listens on now (the kernel's choice).
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// spkiHash(certFile): base64 of the SHA-256 of the certificate's
// SubjectPublicKeyInfo, computed with openssl: what chromium's
// --ignore-certificate-errors-spki-list takes.
export function spkiHash(certFile) {
  const pubkey = execFileSync('openssl', ['x509', '-in', certFile, '-noout', '-pubkey']);
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'DER'], { input: pubkey });
  return createHash('sha256').update(der).digest('base64');
}

// One GET of /v1/health, trusting the hub's own certificate only. Resolves
// to the status, or 0 when nothing answered.
function health(url, ca) {
  return new Promise((resolve) => {
    const req = https.get(`${url}/v1/health`, { ca, timeout: 5_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', () => resolve(0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

// A village laptop: `hamlet --db DIR/NAME.db ...`.
export class Agent {
  constructor(hub, name, village) {
    this.hub = hub;
    this.name = name;
    this.village = village;
    this.db = path.join(hub.dir, `${name}.db`);
  }

  // run(args, opts): `hamlet --db DB args...`; resolves to its stdout,
  // rejects on failure (opts as for procs.run; allowFail resolves to
  // {code, stdout, stderr} instead).
  async run(args, opts = {}) {
    const r = await run(AGENT_BIN, ['--db', this.db, ...args], opts);
    return opts.allowFail ? r : r.stdout;
  }

  import(file) {
    return this.run(['import', file]);
  }

  sync() {
    return this.run(['sync']);
  }

  // export(format): the ledger as JSON Lines ('jsonl', the default) or CSV.
  export(format = 'jsonl') {
    return this.run(['export', '--format', format]);
  }

  status() {
    return this.run(['status']);
  }

  // startUi(): `hamlet --db DB ui --port 0 --no-browser`, the village's
  // pages on a free loopback port; resolves to a VillageUi once it has
  // printed its first address (with the token). Its stderr goes to
  // DIR/NAME-ui.log. Works before `hamlet init` too (a fresh laptop).
  async startUi() {
    const ui = new VillageUi(this);
    await ui.start();
    return ui;
  }
}

const UI_START_TIMEOUT_MS = 60_000;
const startedUis = new Set(); // village UIs not yet stopped, for stopAllUis()

// A running `hamlet ui`. Fields: firstUrl (http://127.0.0.1:PORT/?token=...,
// what a person opens), url (http://127.0.0.1:PORT, no trailing /), port,
// log (its stderr: one line per request).
export class VillageUi {
  constructor(agent) {
    this.agent = agent;
    this.log = path.join(agent.hub.dir, `${agent.name}-ui.log`);
    this.process = null;
  }

  async start() {
    const logFd = openSync(this.log, 'a');
    const child = startReading(AGENT_BIN, ['--db', this.agent.db, 'ui', '--port', '0', '--no-browser'], { logFd });
    closeSync(logFd);
    this.process = child;
    startedUis.add(this);
    let out = '';
    const found = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), UI_START_TIMEOUT_MS);
      child.stdout.on('data', (b) => {
        out += b.toString('utf8');
        const m = /(http:\/\/127\.0\.0\.1:(\d+))\/\?token=[0-9a-f]+/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m);
        }
      });
      child.exited.then(() => {
        clearTimeout(timer);
        resolve(null);
      });
    });
    if (!found) {
      await this.stop();
      throw new Error(`hamlet ui printed no address:\n${out}\n${this.logText()}`);
    }
    child.stdout.resume(); // the rest is not read
    [this.firstUrl, this.url] = [found[0], found[1]];
    this.port = Number(found[2]);
  }

  logText() {
    try {
      return readFileSync(this.log, 'utf8');
    } catch {
      return '';
    }
  }

  // stop(): SIGTERM (SIGKILL after 30 s); resolves to {code, signal}.
  async stop() {
    startedUis.delete(this);
    if (!this.process) {
      return null;
    }
    const child = this.process;
    this.process = null;
    return stopServer(child);
  }
}

// stopAllUis(): stops every village UI started and not yet stopped.
export async function stopAllUis() {
  await Promise.all([...startedUis].map((ui) => ui.stop()));
}

// A running hub. Made by startHub(); fields:
//   dir, db, cert, key, config, log   its files
//   port, url                          https://127.0.0.1:PORT (no trailing /)
//   pin                                 what `cert generate` printed (sha256//...)
//   spki                                base64 SHA-256 of the cert's SPKI (openssl)
export class Hub {
  constructor(dir) {
    this.dir = dir;
    this.db = path.join(dir, 'hub.db');
    this.cert = path.join(dir, 'hub.crt');
    this.key = path.join(dir, 'hub.key');
    this.config = path.join(dir, 'hub.conf');
    this.log = path.join(dir, 'hub.log');
    this.env = programEnv({ HAMLET_HUB_CONFIG: this.config });
    this.process = null;
    this.agents = [];
  }

  // run(args, opts): `hamlet-hub --db DB args...`; resolves to its stdout,
  // rejects on failure (opts as for procs.run; allowFail resolves to
  // {code, stdout, stderr} instead).
  async run(args, opts = {}) {
    const r = await run(HUB_BIN, ['--db', this.db, ...args], { env: this.env, ...opts });
    return opts.allowFail ? r : r.stdout;
  }

  // addUser(name, password, role): a township account ('reviewer' or
  // 'admin'); the password goes in on stdin, as one line.
  addUser(name, password, role = 'reviewer') {
    return this.run(['user', 'add', name, '--role', role], { input: `${password}\n` });
  }

  addVillage(code, name = code) {
    return this.run(['village', 'add', code, '--name', name]);
  }

  // addDevice(village, {label}): registers a laptop; resolves to its
  // one-time enrolment code (HAMLET1:...), for this hub's URL and cert.
  async addDevice(village, { label } = {}) {
    const args = ['device', 'add', '--village', village, '--url', this.url, '--cert', this.cert];
    if (label) {
      args.push('--label', label);
    }
    const lines = (await this.run(args)).trim().split('\n');
    const code = lines[lines.length - 1].trim();
    if (!code.startsWith('HAMLET1:')) {
      throw new Error(`device add printed no enrolment code:\n${lines.join('\n')}`);
    }
    return code;
  }

  // addAgent(name, village, {label, enroll}): a laptop of village (which
  // must exist), its ledger initialised and, unless enroll is false,
  // enrolled with a fresh code. Resolves to an Agent.
  async addAgent(name, village, { label, enroll = true } = {}) {
    const agent = new Agent(this, name, village);
    await agent.run(['init', '--village', village]);
    if (enroll) {
      await agent.run(['enroll', await this.addDevice(village, { label })]);
    }
    this.agents.push(agent);
    return agent;
  }

  // export(village): the hub's merged ledger (of one village, or all) as
  // JSON Lines.
  export(village) {
    return this.run(village ? ['export', '--village', village] : ['export']);
  }

  // logText(): what the server wrote so far.
  logText() {
    try {
      return readFileSync(this.log, 'utf8');
    } catch {
      return '';
    }
  }

  // Starts `serve` on a free port; tries another port when the first was
  // taken in the meantime.
  async serve() {
    const ca = readFileSync(this.cert);
    let lastWhy = '';
    for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
      this.port = await freePort();
      this.url = `https://127.0.0.1:${this.port}`;
      const logFd = openSync(this.log, 'a');
      const child = startServer(
        HUB_BIN,
        ['--db', this.db, 'serve', '--listen', `127.0.0.1:${this.port}`, '--cert', this.cert, '--key', this.key],
        { env: this.env, logFd },
      );
      closeSync(logFd);
      let exited = null;
      child.exited.then((e) => {
        exited = e;
      });
      const deadline = Date.now() + START_TIMEOUT_MS;
      while (!exited && Date.now() < deadline) {
        if ((await health(this.url, ca)) === 200) {
          this.process = child;
          return;
        }
        await sleep(50);
      }
      if (!exited) {
        await stopServer(child, 5_000);
        throw new Error(`the hub did not answer on ${this.url} within ${START_TIMEOUT_MS} ms:\n${this.logText()}`);
      }
      lastWhy = `exited (${exited.code ?? exited.signal})`;
      await sleep(250);
    }
    throw new Error(`the hub would not start: ${lastWhy}:\n${this.logText()}`);
  }

  // stop(): stops the hub (SIGTERM, SIGKILL after 30 s) and removes its
  // folder unless HAMLET_KEEP_TMP is set. Safe to call twice.
  async stop() {
    started.delete(this);
    if (this.process) {
      const child = this.process;
      this.process = null;
      await stopServer(child);
    }
    this.removeDir();
  }

  // Removes the hub's folder, or says where it was kept (HAMLET_KEEP_TMP).
  removeDir() {
    if (process.env.HAMLET_KEEP_TMP) {
      console.error(`hub: kept ${this.dir}`);
    } else {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

// startHub({config}): a new hub in a temporary folder: its database, a
// self-signed certificate for 127.0.0.1, the configuration file (config:
// the text of hub.conf; empty by default, so that /etc/hamlet/hub.conf is
// never read), serving on a free loopback port and answering /v1/health.
// Resolves to a Hub; stop it with hub.stop() (or stopAllHubs()).
export async function startHub({ config = '' } = {}) {
  const dir = mkdtempSync(path.join(process.env.TMPDIR || os.tmpdir(), 'hamlet-browser-'));
  const hub = new Hub(dir);
  started.add(hub);
  try {
    writeFileSync(hub.config, config);
    const out = await run(HUB_BIN, ['cert', 'generate', '--out', dir, '--name', '127.0.0.1'], { env: hub.env });
    const pin = /pin:\s*(\S+)/.exec(out.stdout);
    if (!pin) {
      throw new Error(`cert generate printed no pin:\n${out.stdout}`);
    }
    hub.pin = pin[1];
    hub.spki = spkiHash(hub.cert);
    if (hub.pin !== `sha256//${hub.spki}`) {
      throw new Error(`the hub's pin ${hub.pin} is not the SPKI hash openssl computes (${hub.spki})`);
    }
    await hub.run(['init']);
    await hub.serve();
    return hub;
  } catch (e) {
    await hub.stop();
    throw e;
  }
}

// stopAllHubs(): stops every hub started and not yet stopped.
export async function stopAllHubs() {
  await Promise.all([...started].map((hub) => hub.stop()));
}
