// A WebSocket from a real headless Chromium (puppeteer-core, Debian's `chromium`) to a page's own
// origin over TLS: Chromium opens it over the page's HTTP/2 connection (RFC 8441) when the server
// offers SETTINGS_ENABLE_CONNECT_PROTOCOL, else over HTTP/1.1. For WebSocketBrowserTest.
//
// BASE_URL   Sluice's TLS listener, e.g. https://127.0.0.1:8443 (required); the page is BASE_URL + /
// WS_PATH    the WebSocket's path (default /ws/browser)
// CHROMIUM   the browser's executable (default /usr/bin/chromium)
//
// Prints one JSON line: {ok: true, page_protocol, text, binary, close_code} or {ok: false, message, step}.
import puppeteer from 'puppeteer-core';
import { required, print } from './common.mjs';

const base = required('BASE_URL');
const wsPath = process.env.WS_PATH || '/ws/browser';
const result = { ok: false, step: 'launch' };
let browser;
try {
  browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    acceptInsecureCerts: true, // Sluice's self-signed development certificate
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run', '--no-default-browser-check',
      '--ignore-certificate-errors', '--disable-quic', '--disable-background-networking', '--disable-component-update',
      '--disable-sync'],
  });
  const page = await browser.newPage();
  page.setDefaultTimeout(10000);
  result.step = 'open';
  await page.goto(base + '/', { waitUntil: 'load' });
  result.page_protocol = await page.evaluate(() => performance.getEntriesByType('navigation')[0].nextHopProtocol);
  result.step = 'websocket';
  const got = await page.evaluate((url) => new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    const out = {};
    const timer = setTimeout(() => reject(new Error('no answer within 8s')), 8000);
    ws.onopen = () => ws.send('hello from chromium');
    ws.onmessage = (e) => {
      if (typeof e.data === 'string') {
        out.text = e.data;
        ws.send(new Uint8Array([7, 8, 9]));
      } else {
        out.binary = Array.from(new Uint8Array(e.data));
        ws.close(4003, 'done');
      }
    };
    ws.onclose = (e) => { clearTimeout(timer); out.close_code = e.code; resolve(out); };
    ws.onerror = () => { clearTimeout(timer); reject(new Error('websocket error')); };
  }), base.replace(/^http/, 'ws') + wsPath);
  Object.assign(result, got);
  result.ok = true;
  delete result.step;
} catch (e) {
  result.message = String(e && e.message || e);
} finally {
  if (browser) {
    await browser.close().catch(() => {});
  }
}
print(result);
