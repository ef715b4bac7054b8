// SPDX-License-Identifier: MIT
// procs.mjs - running Hamlet's programs for the browser tests: one command
// to its end with its output collected, or a long-running server, always
// with an argument vector (never a shell). Every child started here is
// remembered, so that it is killed when the test process ends however it
// ends (a failed assertion, an exception, SIGINT or SIGTERM from the
// runner).
import { spawn } from 'node:child_process';

const live = new Set(); // child processes that have not exited yet

function forget(child) {
  live.delete(child);
}

// The last resort: SIGKILL whatever is still running. 'exit' handlers must
// be synchronous, and process.kill() is.
function killLive() {
  for (const child of live) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  live.clear();
}
process.on('exit', killLive);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.once(sig, () => {
    killLive();
    process.exit(128 + { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[sig]);
  });
}

// The environment of Hamlet's programs: the test's own, without the
// variables that would point them at a user's files or change their words.
export function programEnv(extra = {}) {
  const env = { ...process.env };
  for (const name of ['HAMLET_DB', 'HAMLET_HUB_DB', 'HAMLET_HUB_CONFIG', 'HAMLET_LANG']) {
    delete env[name];
  }
  return { ...env, ...extra };
}

// run(bin, args, {input, env, timeoutMs, allowFail}): runs bin to its end.
// Resolves to {code, stdout, stderr} (strings). A non-zero exit, a signal
// or the timeout (default 120 s) rejects, with the command and its stderr
// in the message, unless allowFail is set; a timed-out child is killed.
export function run(bin, args, opts = {}) {
  const { input, env = programEnv(), timeoutMs = 120_000, allowFail = false } = opts;
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(child);
    const out = [];
    const err = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      forget(child);
      reject(new Error(`cannot run ${bin}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      forget(child);
      const result = {
        code: code ?? -1,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      };
      if (!timedOut && (code === 0 || allowFail)) {
        resolve(result);
        return;
      }
      const what = timedOut
        ? `timed out after ${timeoutMs} ms`
        : signal
          ? `killed by ${signal}`
          : `exited with ${code}`;
      reject(new Error(`${bin} ${args.join(' ')}: ${what}\n${result.stderr.trim()}`));
    });
    child.stdin.on('error', () => {}); // a program that does not read its stdin
    child.stdin.end(input ?? '');
  });
}

// startServer(bin, args, {env, logFd}): starts a long-running program with
// its stdout and stderr to logFd (an open file descriptor). Returns the
// ChildProcess; child.exited is a promise of {code, signal}.
export function startServer(bin, args, { env = programEnv(), logFd } = {}) {
  const child = spawn(bin, args, { env, stdio: ['ignore', logFd, logFd] });
  live.add(child);
  child.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      forget(child);
      resolve({ code, signal });
    });
    child.on('error', (e) => {
      forget(child);
      resolve({ code: -1, signal: null, error: e });
    });
  });
  return child;
}

// stopServer(child, graceMs): SIGTERM, then SIGKILL if it has not exited
// within graceMs (default 30 s). Resolves to {code, signal} once it has.
export async function stopServer(child, graceMs = 30_000) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return child.exited;
  }
  child.kill('SIGTERM');
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(() => resolve('late'), graceMs);
  });
  if ((await Promise.race([child.exited, late])) === 'late') {
    child.kill('SIGKILL');
  }
  clearTimeout(timer);
  return child.exited;
}

// startReading(bin, args, {env, logFd}): starts a long-running program
// whose stdout the caller reads (child.stdout, a stream), its stderr to
// logFd. Remembered and killed like startServer()'s children; child.exited
// is a promise of {code, signal}.
export function startReading(bin, args, { env = programEnv(), logFd } = {}) {
  const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', logFd] });
  live.add(child);
  child.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      forget(child);
      resolve({ code, signal });
    });
    child.on('error', (e) => {
      forget(child);
      resolve({ code: -1, signal: null, error: e });
    });
  });
  return child;
}
