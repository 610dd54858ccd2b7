// kithd.mjs: start and stop a real kithd for the browser tests, on a private
// temporary data directory, with sync and LAN discovery off and the web page
// on 127.0.0.1 at a free port. Owns the temp dir and the child process.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const sourceDir = process.env.KITH_SOURCE_DIR || path.resolve(here, '../../..');

function kithdPath() {
  if (process.env.KITHD) return process.env.KITHD;
  for (const dir of ['build', 'build-browser']) {
    const p = path.join(sourceDir, dir, 'node', 'kithd');
    if (fs.existsSync(p)) return p;
  }
  throw new Error('set KITHD to the kithd binary');
}

// A TCP port on 127.0.0.1 that was free a moment ago.
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// startKithd({ allowSignup }): resolves to { url, dir, log(), stop() } once
// kithd printed "kithd: web page at URL". Rejects with kithd's stderr when it
// exits or says nothing within 20 s.
export async function startKithd({ allowSignup = true } = {}) {
  // Short path: the control socket lives in the data dir (108-byte limit).
  const dir = fs.mkdtempSync(path.join(os.tmpdir().length < 40 ? os.tmpdir() : '/tmp', 'kith-web-'));
  const data = path.join(dir, 'data');
  fs.mkdirSync(data, { mode: 0o700 });
  fs.mkdirSync(path.join(dir, 'home'), { mode: 0o700 });
  fs.mkdirSync(path.join(dir, 'run'), { mode: 0o700 });
  const conf = path.join(dir, 'kithd.conf');
  fs.writeFileSync(conf, `[web]\nallow_signup = ${allowSignup ? 'yes' : 'no'}\n`);
  const port = await freePort();
  const env = {
    PATH: process.env.PATH,
    HOME: path.join(dir, 'home'),
    XDG_RUNTIME_DIR: path.join(dir, 'run'),
    KITH_CONTENT: path.join(sourceDir, 'content'),
  };
  for (const k of ['ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS']) {
    if (process.env[k]) env[k] = process.env[k];
  }
  const args = ['--data', data, '--config', conf, '--listen', 'off', '--no-discovery',
    '--web', `127.0.0.1:${port}`];
  const child = spawn(kithdPath(), args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  let exited = null;
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kithd printed no web address in 20 s:\n${stderr}`)), 20000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s) => {
      stderr += s;
      const m = /kithd: web page at (http:\/\/[^\s]+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/$/, ''));
      }
    });
    child.on('exit', (code, sig) => {
      exited = { code, sig };
      clearTimeout(timer);
      reject(new Error(`kithd exited (${code ?? sig}) at start:\n${stderr}`));
    });
  }).catch((e) => {
    if (!exited) child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  });
  return {
    url,
    dir,
    log: () => stderr,
    // Stop with SIGTERM (kithd exits 0 then), SIGKILL after 10 s.
    async stop() {
      if (!exited) {
        const done = new Promise((r) => child.once('exit', (code, sig) => r({ code, sig })));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10000);
        exited = await done;
        clearTimeout(t);
      }
      if (!process.env.KITH_BROWSER_KEEP) fs.rmSync(dir, { recursive: true, force: true });
      return exited;
    },
  };
}
