#!/usr/bin/env node
// Dealer portal: a small node:http back end over an autocrm database, everything under the
// logged-in dealer's scope (`X-Dealer` header or `?dealer=` naming the dealer code; a real
// portal takes it from its session). JSON API + one HTML page (public/index.html).
//
//   node server.js [--db portal.redb] [--customers 5000] [--port 8080]
//
// A database that does not exist yet is filled with the synthetic dealer network first.
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { Database, AutocrmError } = require('autocrm');

const PAGE = path.join(__dirname, 'public', 'index.html');

/** HTTP status of a core error code. */
function statusOf(e) {
  if (!(e instanceof AutocrmError)) return e instanceof TypeError || e instanceof RangeError ? 400 : 500;
  if (e.code === 'not_found') return 404;
  if (e.code === 'access_denied' || e.code === 'unknown_scope') return 403;
  if (e.code.startsWith('validation.') || e.code.startsWith('rule.')) return 400;
  if (e.code === 'insufficient_points' || e.code === 'idempotency_conflict' || e.code === 'duplicate_key') return 409;
  return 500;
}

function send(res, status, body) {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(data);
}

async function readJson(req) {
  let size = 0;
  const chunks = [];
  for await (const c of req) {
    size += c.length;
    if (size > 64 * 1024) throw new RangeError('request body too large');
    chunks.push(c);
  }
  if (chunks.length === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new TypeError('the request body is not JSON');
  }
}

/** What the search list shows of a customer (from the scoped 360: masked as the dealer sees). */
function summary(view) {
  return {
    id: view.id,
    name: view.customer.name,
    phones: view.customer.phones,
    plates: view.currentVehicles.map((v) => v.plate).filter(Boolean),
  };
}

const MONTHS = Array.from({ length: 12 }, (_, i) => String(i + 1).padStart(2, '0'));

/** The API over one open database. */
function handler(db) {
  // One scoped handle per dealer and actor, created on first use: resolving a scope reads the
  // file, and the handle is cheap to share.
  const scopes = new Map();
  function scopeOf(req, url) {
    const dealer = req.headers['x-dealer'] || url.searchParams.get('dealer');
    if (!dealer) {
      const e = new TypeError('name the dealer: X-Dealer header or ?dealer=');
      throw e;
    }
    const actor = String(req.headers['x-user'] || 'portal');
    const key = `${dealer}\u0000${actor}`;
    if (!scopes.has(key)) scopes.set(key, db.as(`dealer:${dealer}`, actor, { purpose: 'dealer portal' }));
    return scopes.get(key);
  }

  const routes = [
    ['GET', /^\/api\/dealers$/, () => db.dealers().map((d) => ({ code: d.code, name: d.name, city: d.city }))],
    ['GET', /^\/api\/search$/, (s, url) => {
      const q = (url.searchParams.get('q') || '').trim();
      if (!q) throw new TypeError('q: a phone, plate or VIN');
      return s.find(q).slice(0, 20).map((id) => summary(s.customer360(id, 0)));
    }],
    ['GET', /^\/api\/customers\/(\d+)$/, (s, url, m) => s.customer360(Number(m[1]), Number(url.searchParams.get('timeline') || 20))],
    ['POST', /^\/api\/customers\/(\d+)\/visits$/, (s, url, m, body) => {
      const id = s.addTouchpoint({
        at: db.now(), customer: Number(m[1]), vehicle: body.vehicle ?? undefined,
        channel: 'showroom', kind: 'service_visit', serviceKind: body.serviceKind || 'maintenance',
        amount: body.amount ?? undefined, partsAmount: body.partsAmount ?? undefined,
        labourAmount: body.labourAmount ?? undefined, mileageKm: body.mileageKm ?? undefined,
        note: body.note ?? undefined,
      });
      return { touchpoint: id };
    }],
    ['POST', /^\/api\/customers\/(\d+)\/redeem$/, (s, url, m, body) => {
      const posting = s.redeem({ customer: Number(m[1]), points: body.points, item: body.item, key: body.key, at: db.now() });
      return { posting };
    }],
    ['GET', /^\/api\/segments$/, async (s, url) => {
      const asOf = url.searchParams.get('asOf') || db.now();
      const rules = {
        owners: 'vehicle_count >= 1',
        lapsed: 'vehicle_count >= 1 and count(service_visit, 365d) = 0',
        regulars: 'count(service_visit, 365d) >= 2',
      };
      const names = Object.keys(rules);
      const counts = await Promise.all(names.map((n) => s.segmentCount(rules[n], asOf)));
      return Object.fromEntries(names.map((n, i) => [n, counts[i]]));
    }],
    ['GET', /^\/api\/kpi\/churn$/, async (s, url) => {
      const year = url.searchParams.get('year') || '2025';
      if (!/^\d{4}$/.test(year)) throw new RangeError('year: four digits');
      const dealer = s.scope.slice('dealer:'.length);
      const pick = (rows) => rows.find((r) => r.label === dealer) || null;
      const months = await Promise.all(MONTHS.map(async (m) => {
        const [churn, retention] = await Promise.all([
          s.kpi('after_sales_churn', `${year}-${m}`, 'dealer'),
          s.kpi('retention', `${year}-${m}`, 'dealer'),
        ]);
        const c = pick(churn);
        const r = pick(retention);
        return { month: `${year}-${m}`, churn: c ? c.value : null, retention: r ? r.value : null };
      }));
      return { dealer, year, months };
    }],
  ];

  return async (req, res) => {
    const url = new URL(req.url, 'http://localhost');
    try {
      if (req.method === 'GET' && (url.pathname === '/' || url.pathname === '/index.html')) {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
        res.end(fs.readFileSync(PAGE));
        return;
      }
      for (const [method, re, fn] of routes) {
        const m = url.pathname.match(re);
        if (!m || req.method !== method) continue;
        const body = method === 'POST' ? await readJson(req) : undefined;
        const s = url.pathname === '/api/dealers' ? null : scopeOf(req, url);
        send(res, 200, await fn(s, url, m, body));
        return;
      }
      send(res, 404, { error: { code: 'no_route', message: `${req.method} ${url.pathname}` } });
    } catch (e) {
      const status = statusOf(e);
      send(res, status, { error: { code: e.code || e.name, message: e.message, field: e.field ?? null } });
    }
  };
}

/** Opens (generating if new) the database and starts the server; resolves once listening. */
async function start({ db: file, customers = 5000, port = 0, host = '127.0.0.1' } = {}) {
  const fresh = !file || !fs.existsSync(file);
  const db = file ? Database.open(file) : Database.inMemory();
  if (fresh) await db.generate({ customers, seed: 42 });
  const server = http.createServer(handler(db));
  await new Promise((resolve) => server.listen(port, host, resolve));
  return {
    db,
    server,
    url: `http://${host}:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(() => { db.close(); resolve(); })),
  };
}

module.exports = { start, handler };

if (require.main === module) {
  const args = process.argv.slice(2);
  const opt = (name, def) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : def;
  };
  start({ db: opt('db', 'portal.redb'), customers: Number(opt('customers', 5000)), port: Number(opt('port', 8080)) })
    .then(({ url }) => console.log(`dealer portal on ${url}/?dealer=<code>`))
    .catch((e) => {
      console.error(e);
      process.exit(1);
    });
}
