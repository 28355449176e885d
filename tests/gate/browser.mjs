// Browser tests of consent-gate in Debian's headless Chromium, driven by
// playwright-core. Run by browser.sh, which starts a real gate on loopback
// and passes its links in the environment. JavaScript is disabled in every
// page: the gate's pages must work without it.
//
// Checks: consent page with no box pre-ticked, Accept with one purpose,
// the ledger event and its notice version (the hash shown is the SHA-256
// of the templates kept in the store, which hold no address), withdrawal, a gated pixel from an "old" mail turning into
// the blank GIF, no request leaving the gate, no CSP violation; screenshots
// of both pages in both languages, and the German consent page, into $ARTEFACTS.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const env = (k) => {
  if (!process.env[k]) throw new Error(`missing ${k}`);
  return process.env[k];
};
const BASE = env('BASE');
const ART = env('ARTEFACTS');
const L = {
  prefsEn: env('LINK_P_EN'), prefsFr: env('LINK_P_FR'),
  withdrawEn: env('LINK_W_EN'), withdrawFr: env('LINK_W_FR'),
  pixel: env('LINK_O'),
  opaque: env('LINK_C_OPAQUE'),
};
const RCPT = env('RCPT');
let pass = 0, fail = 0;
const ok = (name) => { pass++; console.log(`ok - ${name}`); };
const bad = (name, why) => { fail++; console.log(`not ok - ${name}: ${why}`); };
const check = (name, cond, why = '') => (cond ? ok(name) : bad(name, why));

function ledger(rcpt = RCPT) {
  const out = execFileSync(env('CTL'), ['--db', env('DB'), '--json', 'proof', 'brand.example', rcpt],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return JSON.parse(out);
}

// Every request a page makes must go to the gate itself.
function watch(page, name) {
  const foreign = [];
  const csp = [];
  page.on('request', (r) => { if (!r.url().startsWith(BASE)) foreign.push(r.url()); });
  page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) csp.push(m.text()); });
  return () => {
    check(`${name}: no third-party request`, foreign.length === 0, foreign.join(' '));
    check(`${name}: no CSP violation`, csp.length === 0, csp.join(' | '));
  };
}

async function shot(page, file) {
  await page.screenshot({ path: join(ART, file), fullPage: true });
}

async function consentFlow(ctxEn) {
  const page = await ctxEn.newPage();
  const done = watch(page, 'consent page (en)');
  const resp = await page.goto(L.prefsEn);
  check('consent page loads', resp.status() === 200, `status ${resp.status()}`);
  check('consent page is English', (await page.getAttribute('html', 'lang')) === 'en');
  const boxes = page.locator('input[type=checkbox]');
  const n = await boxes.count();
  let ticked = 0;
  for (let i = 0; i < n; i++) if (await boxes.nth(i).isChecked()) ticked++;
  check('consent page offers purposes', n >= 2, `${n} boxes`);
  check('no box is pre-ticked', ticked === 0, `${ticked} ticked`);
  const accept = page.getByRole('button', { name: 'Accept' });
  const refuse = page.getByRole('button', { name: 'Refuse' });
  const [a, r] = [await accept.boundingBox(), await refuse.boundingBox()];
  check('Accept and Refuse have equal weight (same size)',
    a && r && Math.abs(a.width - r.width) < 2 && Math.abs(a.height - r.height) < 2,
    JSON.stringify({ a, r }));
  const [ca, cr] = await Promise.all([accept, refuse].map((b) => b.evaluate((e) => {
    const s = getComputedStyle(e); return `${s.backgroundColor}/${s.color}/${s.fontWeight}`;
  })));
  check('Accept and Refuse have equal weight (same style)', ca === cr, `${ca} vs ${cr}`);
  await shot(page, 'consent-en.png');
  const shownHash = (await page.locator('#notice .ref code').textContent()).trim();

  check('shown hash is a SHA-256', /^[0-9a-f]{64}$/.test(shownHash), shownHash);

  await page.getByLabel('Measure email opens').check();
  await Promise.all([page.waitForURL(L.prefsEn), accept.click()]);
  await page.waitForLoadState();
  check('Accept shows the receipt', (await page.textContent('h1')).includes('Your choice is recorded'));
  await shot(page, 'consent-receipt-en.png');
  done();

  const events = ledger().history.filter((e) => e.method === 'consent-page');
  const grant = events.find((e) => e.action === 'grant');
  check('ledger: grant event from the consent page', !!grant, JSON.stringify(events));
  if (grant) {
    check('ledger: grant covers exactly the ticked purpose',
      JSON.stringify(grant.purposes) === '["opens"]', JSON.stringify(grant.purposes));
    check('ledger: notice id names the version', grant.notice_id === `page-consent-en-${shownHash.slice(0, 12)}`,
      grant.notice_id);
    check('ledger: notice hash = hash of the page shown', grant.notice_sha256 === shownHash,
      `${grant.notice_sha256} vs ${shownHash}`);
    // The version the store keeps is exactly the bytes of that hash, and a
    // template: no address, masked or not.
    const kept = execFileSync(env('CTL'), ['--db', env('DB'), 'notice', 'show', shownHash]);
    check('store keeps the exact notice version shown',
      createHash('sha256').update(kept).digest('hex') === shownHash, `${kept.length} bytes`);
    check('kept notice holds no address', !kept.toString('utf8').includes('@'),
      kept.toString('utf8').slice(0, 200));
  }
  const refuse1 = events.find((e) => e.action === 'refuse');
  check('ledger: unticked purpose recorded as refused', refuse1 && refuse1.purposes.includes('clicks'));
  await page.close();
}

// A new connection each time: a kept-alive one left idle through a flow
// can be closed by the gate's (2 s, in tests) idle timeout just as it is
// reused, and this API, unlike a browser, does not retry.
async function pixelStatus(ctx) {
  const r = await ctx.request.get(L.pixel, { maxRedirects: 0, headers: { Connection: 'close' } });
  return { status: r.status(), type: r.headers()['content-type'], loc: r.headers().location };
}

async function withdrawFlow(ctxFr) {
  const page = await ctxFr.newPage();
  const done = watch(page, 'withdrawal page (fr)');
  await page.goto(L.withdrawFr);
  check('withdrawal page is French', (await page.getAttribute('html', 'lang')) === 'fr');
  check('withdrawal page masks the address', (await page.textContent('main')).includes('a***@example.org'));
  await shot(page, 'withdraw-fr.png');
  await Promise.all([page.waitForURL(L.withdrawFr),
    page.getByRole('button', { name: 'Arrêter le suivi' }).click()]);
  await page.waitForLoadState();
  check('withdrawal receipt shown', (await page.textContent('h1')).includes('Suivi arrêté'));
  await shot(page, 'withdraw-receipt-fr.png');
  done();
  await page.close();
  const w = ledger().history.filter((e) => e.action === 'withdraw' && e.method === 'withdraw-link');
  check('ledger: withdraw event', w.length === 1, JSON.stringify(w));
}

async function screenshotsOnly(ctxEn, ctxFr) {
  for (const [ctx, url, file, lang] of [[ctxFr, L.prefsFr, 'consent-fr.png', 'fr'],
    [ctxEn, L.withdrawEn, 'withdraw-en.png', 'en']]) {
    const page = await ctx.newPage();
    const done = watch(page, file);
    await page.goto(url);
    check(`${file}: lang=${lang}`, (await page.getAttribute('html', 'lang')) === lang);
    const styled = await page.locator('button').first()
      .evaluate((e) => getComputedStyle(e).backgroundColor);
    check(`${file}: stylesheet from the gate applied`, styled === 'rgb(29, 78, 216)', styled);
    await shot(page, file);
    done();
    await page.close();
  }
}

// A language added in issue 12, as an Austrian reader's browser asks for
// it (de-AT falls back to de): the page, the choice and the receipt.
async function germanFlow(browser, opts) {
  const ctx = await browser.newContext({ ...opts, locale: 'de-AT',
    extraHTTPHeaders: { 'Accept-Language': 'de-AT,de;q=0.9,en;q=0.5' } });
  const page = await ctx.newPage();
  const done = watch(page, 'consent page (de)');
  const resp = await page.goto(env('LINK_P_DE'));
  check('German consent page loads', resp.status() === 200, `status ${resp.status()}`);
  check('de-AT gets the German page', (await page.getAttribute('html', 'lang')) === 'de');
  const h1 = await page.textContent('h1');
  check('German title', h1.includes('Einstellungen zum E-Mail-Tracking'), h1);
  const styled = await page.locator('button').first()
    .evaluate((e) => getComputedStyle(e).backgroundColor);
  check('German page: stylesheet from the gate applied', styled === 'rgb(29, 78, 216)', styled);
  await shot(page, 'consent-de.png');
  await page.getByLabel('Öffnungen messen').check();
  await page.getByRole('button', { name: 'Akzeptieren' }).click();
  const main = await page.textContent('main');
  check('German receipt shown', (await page.textContent('h1')).includes('Ihre Auswahl wurde gespeichert'));
  check('German receipt names the jurisdiction', /Anwendbares Recht\s*FR/.test(main), main);
  await shot(page, 'consent-done-de.png');
  const ev = ledger(env('RCPT_DE')).history.find((e) => e.action === 'grant');
  check('ledger: the German notice version', !!ev && ev.notice_id.startsWith('page-consent-de-'),
    JSON.stringify(ev));
  done();
  await ctx.close();
}

// The interstitial (opaque wrapper, no consent) and a phone-sized consent
// page, for the eye.
async function extraShots(browser, opts) {
  const ctx = await browser.newContext({ ...opts, extraHTTPHeaders: { 'Accept-Language': 'en' } });
  const page = await ctx.newPage();
  const done = watch(page, 'interstitial');
  const resp = await page.goto(L.opaque);
  check('interstitial shown for an opaque link without consent', resp.status() === 200
    && (await page.textContent('h1')).includes('tracking service'));
  const href = await page.getAttribute('a.button', 'href');
  check('interstitial continues only to the URL from the token',
    href === 'https://opaque.example/ls/click?upn=abc', href);
  await shot(page, 'interstitial-en.png');
  done();
  await ctx.close();
  const phone = await browser.newContext({ ...opts, viewport: { width: 375, height: 700 },
    extraHTTPHeaders: { 'Accept-Language': 'fr' } });
  const p2 = await phone.newPage();
  await p2.goto(L.prefsFr);
  const overflow = await p2.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  check('consent page fits a 375 px phone screen (no horizontal scroll)', !overflow);
  await shot(p2, 'consent-fr-phone.png');
  await phone.close();
}

async function main() {
  mkdirSync(ART, { recursive: true });
  // playwright gives every launch a fresh temporary profile (user-data-dir).
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 60000,
  });
  const opts = { javaScriptEnabled: false, viewport: { width: 900, height: 900 } };
  const ctxEn = await browser.newContext({ ...opts, locale: 'en-GB', extraHTTPHeaders: { 'Accept-Language': 'en-GB,en' } });
  const ctxFr = await browser.newContext({ ...opts, locale: 'fr-FR', extraHTTPHeaders: { 'Accept-Language': 'fr-FR,fr' } });
  try {
    let p = await pixelStatus(ctxEn);
    check('old-mail pixel before consent: blank GIF', p.status === 200 && p.type === 'image/gif', JSON.stringify(p));
    await consentFlow(ctxEn);
    p = await pixelStatus(ctxEn);
    check('old-mail pixel after Accept: 302 to the original pixel',
      p.status === 302 && p.loc === 'https://t.example/open.gif', JSON.stringify(p));
    await withdrawFlow(ctxFr);
    p = await pixelStatus(ctxEn);
    check('old-mail pixel after withdrawal: blank GIF',
      p.status === 200 && p.type === 'image/gif' && !p.loc, JSON.stringify(p));
    await screenshotsOnly(ctxEn, ctxFr);
    await extraShots(browser, opts);
    await germanFlow(browser, opts);
  } catch (e) {
    bad('browser run', e.stack || String(e));
  } finally {
    await browser.close();
  }
  console.log(`${pass} passed, ${fail} failed`);
  process.exit(fail ? 1 : 0);
}

main().catch((e) => {
  console.log(`not ok - browser run: ${e.message}`);
  console.log(`${pass} passed, ${fail + 1} failed`);
  process.exit(1);
});
