// Opens Sluice's dashboard in a real headless Chromium (puppeteer-core, Debian's `chromium`) and checks
// that it shows the backends, then that it follows a drain, waiting on page conditions only (no sleeps).
//
// BASE_URL   Sluice, e.g. http://127.0.0.1:8000 (required)
// BACKEND    the id of the backend to drain (required); BACKENDS the number of rows expected (default 2)
// DRAIN_VIA  "api": POST /api/v1/backends/{id}/drain from this script (default); "button": the page's Drain button
// TOKEN      when set, sign in through /api/ui/login with it first (a session cookie instead of loopback)
// SCREENSHOT when set, a PNG of the page (full page) is written there while the backend shows drained
// CHROMIUM   the browser's executable (default /usr/bin/chromium)
// TIMEOUT_MS how long each page condition may take (default 10000)
//
// Prints one JSON line: {ok: true, backends: [...], drained_shown, enabled_shown, csp_violations, console_errors}
// or {ok: false, message, step, ...}; then, in both cases, the browser is closed and the script exits 0.
import puppeteer from 'puppeteer-core';
import { required, int, print } from './common.mjs';

const base = required('BASE_URL');
const backend = required('BACKEND');
const rows = int('BACKENDS', 2);
const via = process.env.DRAIN_VIA || 'api';
const token = process.env.TOKEN || '';
const screenshot = process.env.SCREENSHOT || '';
const timeout = int('TIMEOUT_MS', 10000);

const result = { ok: false, step: 'launch', csp_violations: [], console_errors: [] };
let browser;
try {
  browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true, // Chromium's new headless mode (--headless=new)
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run', '--no-default-browser-check'],
  });
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 860 });
  page.setDefaultTimeout(timeout);
  page.on('console', (m) => { if (m.type() === 'error') result.console_errors.push(m.text()); });
  page.on('pageerror', (e) => result.console_errors.push(String(e)));
  // Added through the DevTools protocol, so the page's own CSP does not apply to this probe.
  await page.evaluateOnNewDocument(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation',
      (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
  });

  result.step = 'open';
  await page.goto(base + '/api/ui', { waitUntil: 'domcontentloaded' });
  if (token) {
    result.step = 'sign-in';
    await page.waitForSelector('#token');
    result.login_shown = new URL(page.url()).pathname;
    await page.type('#token', token);
    await Promise.all([page.waitForNavigation({ waitUntil: 'domcontentloaded' }), page.click('button[type=submit]')]);
  }

  result.step = 'backends';
  await page.waitForFunction((n) => document.querySelectorAll('#backends tbody tr[data-backend]').length === n
      && document.getElementById('live').dataset.live === 'true', {}, rows);
  result.backends = await page.$$eval('#backends tbody tr[data-backend]',
    (trs) => trs.map((tr) => ({ id: tr.dataset.backend, pool: tr.dataset.pool, state: tr.dataset.state,
      draining: tr.dataset.draining === 'true' })));

  result.step = 'drain';
  const row = (id) => `#backends tbody tr[data-backend="${id.replace(/["\\]/g, "\\$&")}"]`;
  if (via === 'button') {
    await page.click(row(backend) + ' button[data-action=drain]');
  } else {
    const r = await fetch(base + '/api/v1/backends/' + encodeURIComponent(backend) + '/drain', { method: 'POST' });
    if (!r.ok) throw new Error('drain through the admin API: HTTP ' + r.status + ' ' + await r.text());
  }
  await page.waitForFunction((id) => {
    const tr = [...document.querySelectorAll('#backends tbody tr[data-backend]')].find((t) => t.dataset.backend === id);
    return tr && tr.dataset.draining === 'true' && tr.querySelector('.badge').textContent === 'draining';
  }, {}, backend);
  result.drained_shown = true;
  if (screenshot) {
    result.step = 'screenshot';
    // A picture worth looking at: requests per second known, the vLLM scrapes in, an error listed.
    await page.waitForFunction(() => document.getElementById('rps').textContent !== '–'
        && document.querySelector('#backends tbody .bar') !== null
        && document.querySelectorAll('#errors tbody tr').length > 0, { timeout: 15000 }).catch(() => {});
    await page.screenshot({ path: screenshot, fullPage: true });
    result.screenshot = screenshot;
  }

  result.step = 'enable';
  await page.click(row(backend) + ' button[data-action=enable]');
  await page.waitForFunction((id) => {
    const tr = [...document.querySelectorAll('#backends tbody tr[data-backend]')].find((t) => t.dataset.backend === id);
    return tr && tr.dataset.draining === 'false';
  }, {}, backend);
  result.enabled_shown = true;
  result.action_error = await page.$eval('#action-error', (e) => (e.hidden ? null : e.textContent));
  result.csp_violations = await page.evaluate(() => window.__csp);
  result.step = 'done';
  result.ok = true;
} catch (e) {
  result.message = String(e && e.message || e);
} finally {
  if (browser) await browser.close().catch(() => {});
}
print(result);
