// End to end: the portal in headless Chromium (Debian's chromium, driven by playwright-core):
// search a plate, open the 360 view, post a visit, check the page; another dealer's customer
// is not found; a screenshot goes to output/ (gitignored).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');
const { start } = require('../server');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const OUT = path.join(__dirname, '..', 'output');

/** A customer dealer `code` sees with a plate, and one it does not see that `other` sees. */
function pick(db, code, other) {
  const mine = db.as(`dealer:${code}`, 'e2e-setup');
  const theirs = db.as(`dealer:${other}`, 'e2e-setup');
  let own = null;
  let foreign = null;
  const n = db.customerCount();
  for (let id = 1; id <= n && !(own && foreign); id++) {
    let view = null;
    try {
      view = mine.customer360(id, 0);
    } catch (e) {
      if (e.code !== 'not_found') throw e;
    }
    const plate = (v) => v && v.currentVehicles.map((c) => c.plate).find(Boolean);
    if (view && !own && plate(view)) own = { id, plate: plate(view) };
    if (!view && !foreign) {
      try {
        const v = theirs.customer360(id, 0);
        if (plate(v)) foreign = { id, plate: plate(v) };
      } catch (e) {
        if (e.code !== 'not_found') throw e;
      }
    }
  }
  assert.ok(own && foreign, 'the generated network has both kinds of customer');
  return { own, foreign };
}

test('dealer portal in a real browser', { timeout: 300000 }, async () => {
  assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing (scripts/test-node.sh installs Debian's chromium)`);
  const portal = await start({ customers: 2000 });
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'portal-chromium-'));
  const [a, b] = portal.db.dealers();
  const { own, foreign } = pick(portal.db, a.code, b.code);
  // A fresh profile directory per run (playwright passes it as --user-data-dir).
  const browser = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1100, height: 800 },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  try {
    const page = browser.pages()[0] || await browser.newPage();
    const consoleErrors = [];
    page.on('pageerror', (e) => consoleErrors.push(e.message));
    await page.goto(`${portal.url}/?dealer=${encodeURIComponent(a.code)}`);
    await page.waitForSelector('body[data-ready="1"]');
    // The chart has the dealer's 12 months and the segment counts are shown.
    assert.equal(await page.locator('#chart polyline[data-series="churn"]').count(), 1);
    assert.ok(await page.locator('#chart circle').count() > 0);
    assert.equal(await page.locator('#segments tr').count(), 3);

    // Search the plate, open the 360 view.
    await page.fill('#q', own.plate);
    await page.click('#search');
    await page.waitForSelector(`li.hit[data-id="${own.id}"]`);
    await page.click(`li.hit[data-id="${own.id}"]`);
    await page.waitForSelector('#view:not([hidden])');
    assert.match(await page.textContent('#vehicles'), new RegExp(own.plate));
    const before = Number(await page.textContent('#visit-count'));

    // Post a visit: the page shows one more service visit, newest first in the timeline.
    await page.fill('#visit-amount', '888.80');
    await page.fill('#visit-km', '43210');
    await page.click('#post-visit');
    await page.waitForFunction((n) => Number(document.querySelector('#visit-count').textContent) === n, before + 1);
    assert.match(await page.textContent('#visit-status'), /visit \d+ posted/);
    assert.match(await page.textContent('#timeline tbody tr:first-child'), /¥888\.80/);
    const stored = portal.db.customer360(own.id);
    assert.equal(stored.rollup.serviceVisits, before + 1);
    assert.equal(stored.timeline.items[0].dealer, a.id);

    fs.mkdirSync(OUT, { recursive: true });
    await page.screenshot({ path: path.join(OUT, 'dealer-portal.png'), fullPage: true });

    // Another dealer's customer: not found, exactly like a missing one.
    await page.fill('#q', foreign.plate);
    await page.click('#search');
    await page.waitForFunction(() => document.querySelector('#search-status').textContent === 'not found');
    assert.equal(await page.locator('li.hit').count(), 0);
    const res = await page.evaluate(async ([id, code]) => {
      const r = await fetch(`/api/customers/${id}`, { headers: { 'x-dealer': code } });
      return { status: r.status, body: await r.json() };
    }, [foreign.id, a.code]);
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 'not_found');

    // Redeeming: more points than the wallet holds is 409 insufficient_points; a retry with
    // the same idempotency key gets the same answer; another dealer's customer is not found.
    const redeem = (id, body) => page.evaluate(async ([cid, code, b]) => {
      const r = await fetch(`/api/customers/${cid}/redeem`, { method: 'POST', headers: { 'x-dealer': code, 'content-type': 'application/json' }, body: JSON.stringify(b) });
      return { status: r.status, body: await r.json() };
    }, [id, a.code, body]);
    const big = { points: 10000000, item: 'a car', key: `e2e-${own.id}` };
    const first = await redeem(own.id, big);
    assert.equal(first.status, 409);
    assert.equal(first.body.error.code, 'insufficient_points');
    assert.deepEqual(await redeem(own.id, big), first);
    assert.equal((await redeem(foreign.id, { points: 1, item: 'x', key: 'e2e-foreign' })).status, 404);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await browser.close();
    await portal.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  }
});
