// Helpers for the browser tests: build keygate once, start the fake provider
// and a real `keygate serve` (SQLite, loopback, port 0), launch Debian's
// chromium through playwright-core, and watch for a secret leaking into the
// page, its storage or any response it received.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

export const here = dirname(fileURLToPath(import.meta.url));
export const repo = join(here, '..');
export const artifacts = join(here, 'artifacts');
export const CHROMIUM = process.env.KEYGATE_CHROMIUM || '/usr/bin/chromium';

/** keygateBinary returns $KEYGATE_BIN, or builds keygate into a temp dir once per process. */
let built = '';
export function keygateBinary() {
  if (process.env.KEYGATE_BIN) return process.env.KEYGATE_BIN;
  if (built) return built;
  const dir = mkdtempSync(join(tmpdir(), 'keygate-e2e-bin-'));
  built = join(dir, 'keygate');
  execFileSync('go', ['build', '-o', built, './cmd/keygate'], { cwd: repo, stdio: 'inherit' });
  return built;
}

/** canary returns a made-up key of the given prefix that is easy to search for. */
export function canary(prefix, label) {
  const tail = randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, 'x');
  return `${prefix}CANARY${label}${tail}`;
}

// cleanEnv drops every KEYGATE_* variable of the caller, so the servers see
// only what the test sets.
function cleanEnv(extra) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KEYGATE_')) env[k] = v;
  return { ...env, ...extra };
}

// waitLine reads lines of stream until match returns a value, or rejects
// when the process exits first or the deadline passes.
function waitLine(proc, stream, match, what, ms = 30000) {
  return new Promise((resolve, reject) => {
    const seen = [];
    const rl = createInterface({ input: stream });
    const timer = setTimeout(() => done(new Error(`${what}: not ready after ${ms}ms; output:\n${seen.join('\n')}`)), ms);
    const onExit = (code) => done(new Error(`${what} exited with ${code}; output:\n${seen.join('\n')}`));
    function done(err, val) {
      clearTimeout(timer);
      proc.off('exit', onExit);
      rl.removeAllListeners('line');
      rl.on('line', () => {}); // keep draining so the child never blocks
      err ? reject(err) : resolve(val);
    }
    rl.on('line', (line) => {
      seen.push(line);
      const v = match(line);
      if (v !== undefined) done(null, v);
    });
    proc.on('exit', onExit);
  });
}

/** startFake starts `keygate dev fake-provider` on a free port; revoked keys get 401. */
export async function startFake(revoke = []) {
  const args = ['dev', 'fake-provider', '--addr', '127.0.0.1:0'];
  for (const k of revoke) args.push('--revoke', k);
  const proc = spawn(keygateBinary(), args, { env: cleanEnv({}), stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stderr.resume();
  const env = {};
  await waitLine(proc, proc.stdout, (line) => {
    const m = /^(KEYGATE_[A-Z0-9_]+_BASE_URL)=(\S+)$/.exec(line);
    if (m) env[m[1]] = m[2];
    return env.KEYGATE_OPENAI_BASE_URL && env.KEYGATE_ANTHROPIC_BASE_URL ? true : undefined;
  }, 'fake provider');
  return { env, stop: () => stop(proc) };
}

/** startKeygate starts `keygate serve` on SQLite in a temp dir and returns its base URL. */
export async function startKeygate(adminToken, fakeEnv) {
  const data = mkdtempSync(join(tmpdir(), 'keygate-e2e-data-'));
  const proc = spawn(keygateBinary(), ['serve', '--addr', '127.0.0.1:0', '--data-dir', data, '--health-interval', '0', '--log-level', 'info'], {
    env: cleanEnv({ ...fakeEnv, KEYGATE_ADMIN_TOKEN: adminToken }),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const logs = [];
  const addr = await waitLine(proc, proc.stderr, (line) => {
    logs.push(line);
    try {
      const ev = JSON.parse(line);
      if (ev.msg === 'listening') return ev.addr;
    } catch {}
    return undefined;
  }, 'keygate serve');
  proc.stderr.on('data', (b) => logs.push(String(b)));
  return {
    url: `http://${addr}`,
    logs,
    stop: async () => {
      await stop(proc);
      rmSync(data, { recursive: true, force: true });
    },
  };
}

function stop(proc) {
  if (proc.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => proc.kill('SIGKILL'), 10000);
    proc.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}

/** launchBrowser starts headless chromium with the flags this machine needs. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/**
 * watchResponses records the body of every response the page receives, so a
 * test can assert that no secret ever came back from the server.
 */
export function watchResponses(page) {
  const pending = [];
  const bodies = [];
  page.on('response', (res) => {
    pending.push(
      res.body().then(
        (b) => bodies.push({ url: res.url(), status: res.status(), text: b.toString('utf8') }),
        () => {}, // redirects and aborted loads have no body
      ),
    );
  });
  return async () => {
    await Promise.all(pending);
    return bodies;
  };
}

/** screenshot writes a full-page PNG to e2e/artifacts/<name>.png. */
export async function screenshot(page, name) {
  if (!existsSync(artifacts)) mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

/** api calls the management API with the admin token, as a script would. */
export async function api(base, token, method, path, body) {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}
