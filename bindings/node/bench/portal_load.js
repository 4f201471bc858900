#!/usr/bin/env node
// HTTP load on the dealer-portal example (loopback only, bounded): autocannon at 50
// connections against the JSON API under one dealer's scope — the 360 view of that dealer's
// customers, and plate searches. Reports requests/s and latency percentiles. A script, not a
// test; needs `npm install` in examples/dealer_portal and here.
//
//   node portal_load.js [--customers 20000] [--seconds 10] [--connections 50]
'use strict';
const path = require('node:path');
const autocannon = require('autocannon');
const { start } = require(path.join(__dirname, '..', '..', '..', 'examples', 'dealer_portal', 'server.js'));

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};

async function main() {
  const portal = await start({ customers: opt('customers', 20000) });
  const dealer = portal.db.dealers()[0].code;
  const scoped = portal.db.as(`dealer:${dealer}`, 'load-setup');
  // The dealer's own customers with a plate, found through the scope as the portal would.
  const targets = [];
  for (let id = 1; targets.length < 200 && id <= portal.db.customerCount(); id++) {
    try {
      const v = scoped.customer360(id, 0);
      const plate = v.currentVehicles.map((c) => c.plate).find(Boolean);
      if (plate) targets.push({ id, plate });
    } catch (e) {
      if (e.code !== 'not_found') throw e;
    }
  }
  let n = 0;
  const run = (title, request) => autocannon({
    url: portal.url,
    connections: opt('connections', 50),
    duration: opt('seconds', 10),
    headers: { 'x-dealer': dealer },
    requests: [{ setupRequest: (req) => ({ ...req, ...request(targets[n++ % targets.length]) }) }],
  }).then((r) => ({ title, r }));
  const results = [];
  results.push(await run('GET /api/customers/:id (360 view)', (t) => ({ method: 'GET', path: `/api/customers/${t.id}` })));
  results.push(await run('GET /api/search?q=<plate>', (t) => ({ method: 'GET', path: `/api/search?q=${encodeURIComponent(t.plate)}` })));
  console.log(`| endpoint (dealer ${dealer}, ${opt('connections', 50)} connections) | requests/s | p50 ms | p99 ms | errors |`);
  console.log('|---|---:|---:|---:|---:|');
  for (const { title, r } of results) {
    console.log(`| ${title} | ${Math.round(r.requests.average).toLocaleString('en')} | ${r.latency.p50} | ${r.latency.p99} | ${r.errors + r.non2xx} |`);
  }
  await portal.close();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
