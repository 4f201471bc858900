#!/usr/bin/env node
// autocrm's Node package against better-sqlite3 (v12) on the same data: the customer 360 read,
// point lookups and single durable postings. SQLite gets the schema and indexes of the Rust
// benchmark (bench/src/sqlite.rs: WAL, synchronous=FULL, 1 GiB cache), with each record's
// fields as a JSON `payload` column the read parses — the JS counterpart of the codec envelope
// the Rust benchmark decodes. A script, not a test:
//
//   npm install --no-audit --no-fund        # in this directory (better-sqlite3 builds from source)
//   node bench.js [--customers 20000] [--reads 5000] [--writes 500] [--rounds 1] [--dir /tmp/x]
//
// With --rounds N each read is timed N times, autocrm and better-sqlite3 alternating, and the
// best round of each side is reported: on a shared machine the best round is the one least
// disturbed by other work, and alternating exposes both sides to the same conditions.
//
// Needs the release build of the package: `npm run build` in bindings/node.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { tableFromIPC } = require('apache-arrow');
const SQLite = require('better-sqlite3');
const { Database } = require('..');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const CUSTOMERS = Number(opt('customers', 20000));
const READS = Number(opt('reads', 5000));
const WRITES = Number(opt('writes', 500));
const ROUNDS = Math.max(1, Number(opt('rounds', 1)));
const DIR = opt('dir', fs.mkdtempSync(path.join(os.tmpdir(), 'autocrm-node-bench-')));
const TIMELINE = 20;

const SCHEMA = `
CREATE TABLE dealers (id INTEGER PRIMARY KEY, code TEXT NOT NULL UNIQUE, name TEXT NOT NULL, region TEXT NOT NULL, province TEXT NOT NULL, city TEXT NOT NULL, kind INTEGER NOT NULL, payload BLOB NOT NULL);
CREATE TABLE customers (id INTEGER PRIMARY KEY, kind INTEGER NOT NULL, name TEXT NOT NULL, national_id TEXT UNIQUE, credit_code TEXT UNIQUE, province TEXT, city TEXT, source_system TEXT, source_record_id TEXT, payload BLOB NOT NULL, UNIQUE (source_system, source_record_id));
CREATE TABLE customer_phones (customer_id INTEGER NOT NULL, phone TEXT NOT NULL, PRIMARY KEY (customer_id, phone)) WITHOUT ROWID;
CREATE INDEX customer_phones_phone ON customer_phones (phone);
CREATE TABLE relations (from_id INTEGER NOT NULL, kind INTEGER NOT NULL, to_id INTEGER NOT NULL, PRIMARY KEY (from_id, kind, to_id)) WITHOUT ROWID;
CREATE INDEX relations_to ON relations (to_id);
CREATE TABLE vehicles (id INTEGER PRIMARY KEY, vin TEXT NOT NULL UNIQUE, plate TEXT UNIQUE, brand TEXT NOT NULL, model TEXT NOT NULL, selling_dealer INTEGER, source_system TEXT, source_record_id TEXT, payload BLOB NOT NULL, UNIQUE (source_system, source_record_id));
CREATE TABLE ownership (vehicle_id INTEGER NOT NULL, customer_id INTEGER NOT NULL, owned_from INTEGER NOT NULL, owned_to INTEGER);
CREATE INDEX ownership_customer ON ownership (customer_id);
CREATE INDEX ownership_vehicle ON ownership (vehicle_id);
CREATE TABLE touchpoints (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, at INTEGER NOT NULL, kind INTEGER NOT NULL, channel INTEGER NOT NULL, vehicle_id INTEGER, dealer_id INTEGER, amount INTEGER, parts_amount INTEGER, labour_amount INTEGER, mileage_km INTEGER, score INTEGER, sensitive INTEGER NOT NULL, source_system TEXT, source_record_id TEXT, payload BLOB NOT NULL, UNIQUE (source_system, source_record_id));
CREATE INDEX touchpoints_customer_at ON touchpoints (customer_id, at);
CREATE TABLE leads (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, source_system TEXT, source_record_id TEXT, payload BLOB NOT NULL, UNIQUE (source_system, source_record_id));
CREATE INDEX leads_customer ON leads (customer_id);
CREATE TABLE complaints (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, source_system TEXT, source_record_id TEXT, payload BLOB NOT NULL, UNIQUE (source_system, source_record_id));
CREATE INDEX complaints_customer ON complaints (customer_id);
CREATE TABLE surveys (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, source_system TEXT, source_record_id TEXT, payload BLOB NOT NULL, UNIQUE (source_system, source_record_id));
CREATE INDEX surveys_customer ON surveys (customer_id);
`;

/** Rows of an Arrow table as plain objects (bigints as numbers, dates as numbers). */
function rows(buf) {
  const t = tableFromIPC(buf);
  const out = [];
  for (const r of t) {
    const o = {};
    for (const [k, v] of Object.entries(r.toJSON())) {
      if (typeof v === 'bigint') o[k] = Number(v);
      else if (v instanceof Date) o[k] = v.getTime();
      // decimal128(18, 2): the unscaled value (fen) in the low 64 bits of four 32-bit words.
      else if (v instanceof Uint32Array && v.length === 4) o[k] = v[0] + v[1] * 4294967296;
      else if (v && typeof v.toArray === 'function') o[k] = Array.from(v.toArray());
      else o[k] = v;
    }
    out.push(o);
  }
  return out;
}

const KINDS = ['enquiry', 'lead', 'test_drive', 'order', 'delivery', 'purchase', 'service_visit', 'callback', 'survey', 'complaint', 'rescue', 'referral', 'club_activity', 'forum_post'];

async function load(db) {
  const sql = new SQLite(path.join(DIR, 'bench.sqlite'));
  sql.pragma('journal_mode = WAL');
  sql.pragma('synchronous = FULL');
  sql.pragma('cache_size = -1048576');
  sql.exec(SCHEMA);
  const [customers, vehicles, ownership, touchpoints, leads, complaints, surveys] = await Promise.all(
    ['customers', 'vehicles', 'ownership', 'touchpoints', 'leads', 'complaints', 'surveys'].map((n) => db.table(n).then(rows)),
  );
  const dealers = db.dealers();
  const num = (x) => (x == null ? null : x);
  sql.transaction(() => {
    const d = sql.prepare('INSERT INTO dealers VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    for (const x of dealers) d.run(x.id, x.code, x.name, x.region, x.province, x.city, x.kind === 'four_s' ? 0 : 1, JSON.stringify(x));
    const c = sql.prepare('INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    const ph = sql.prepare('INSERT OR IGNORE INTO customer_phones VALUES (?, ?)');
    for (const x of customers) {
      c.run(x.id, x.kind === 'person' ? 0 : 1, x.name, x.national_id ?? null, x.credit_code ?? null, x.province ?? null, x.city ?? null, x.source_system ?? null, x.source_record_id ?? null, JSON.stringify(x));
      for (const p of x.phones ?? []) ph.run(x.id, p);
    }
    const v = sql.prepare('INSERT INTO vehicles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    for (const x of vehicles) v.run(x.id, x.vin, x.plate ?? null, x.brand, x.model, x.selling_dealer ?? null, null, null, JSON.stringify(x));
    const o = sql.prepare('INSERT INTO ownership VALUES (?, ?, ?, ?)');
    for (const x of ownership) o.run(x.vehicle ?? x.vehicle_id, x.customer ?? x.customer_id, x.from ?? 0, x.to ?? null);
    const t = sql.prepare('INSERT INTO touchpoints VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
    for (const x of touchpoints) {
      t.run(x.id, x.customer, x.at, KINDS.indexOf(x.kind), 0, x.vehicle ?? null, x.dealer ?? null, num(x.amount), num(x.parts_amount), num(x.labour_amount), x.mileage_km ?? null, x.score ?? null, x.sensitive ? 1 : 0, x.source_system ?? null, x.source_record_id ?? null, JSON.stringify(x));
    }
    for (const [table, list] of [['leads', leads], ['complaints', complaints], ['surveys', surveys]]) {
      const s = sql.prepare(`INSERT INTO ${table} VALUES (?, ?, ?, ?, ?)`);
      for (const x of list) s.run(x.id, x.customer, x.source_system ?? null, x.source_record_id ?? null, JSON.stringify(x));
    }
  })();
  return { sql, customers: customers.length, touchpoints: touchpoints.length };
}

/** The 360 read in SQLite: the statements of the Rust benchmark, rows parsed to objects. */
function sqlite360(sql) {
  const q = {
    customer: sql.prepare('SELECT payload FROM customers WHERE id = ?'),
    phones: sql.prepare('SELECT phone FROM customer_phones WHERE customer_id = ?').pluck(),
    vehicles: sql.prepare('SELECT v.id, v.payload, o.customer_id, o.owned_from, o.owned_to FROM vehicles v JOIN ownership o ON o.vehicle_id = v.id WHERE v.id IN (SELECT vehicle_id FROM ownership WHERE customer_id = ?) ORDER BY v.id, o.rowid'),
    aggregates: sql.prepare('SELECT kind, COUNT(*) AS n, SUM(amount) AS amount FROM touchpoints WHERE customer_id = ? GROUP BY kind'),
    timeline: sql.prepare('SELECT id, payload FROM touchpoints WHERE customer_id = ? ORDER BY at DESC, id DESC LIMIT ?'),
    relations: sql.prepare('SELECT from_id, kind, to_id FROM relations WHERE from_id = ? UNION ALL SELECT from_id, kind, to_id FROM relations WHERE to_id = ?'),
    leads: sql.prepare('SELECT id, payload FROM leads WHERE customer_id = ? ORDER BY id'),
    complaints: sql.prepare('SELECT id, payload FROM complaints WHERE customer_id = ? ORDER BY id'),
    surveys: sql.prepare('SELECT id, payload FROM surveys WHERE customer_id = ? ORDER BY id'),
  };
  const parse = (r) => ({ id: r.id, ...JSON.parse(r.payload) });
  return (id) => ({
    customer: { ...JSON.parse(q.customer.get(id).payload), phones: q.phones.all(id) },
    vehicles: q.vehicles.all(id).map((r) => ({ ...JSON.parse(r.payload), owner: r.customer_id, from: r.owned_from, to: r.owned_to })),
    aggregates: q.aggregates.all(id),
    timeline: q.timeline.all(id, TIMELINE).map(parse),
    relations: q.relations.all(id, id),
    leads: q.leads.all(id).map(parse),
    complaints: q.complaints.all(id).map(parse),
    surveys: q.surveys.all(id).map(parse),
  });
}

function time(label, n, f) {
  for (let i = 0; i < Math.min(200, n); i++) f(i); // warm up
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f(i);
  const s = (performance.now() - t0) / 1000;
  return { label, n, perSecond: n / s };
}

/** The read `a` (autocrm) and `b` (better-sqlite3) timed ROUNDS times alternately: the best of each. */
function duel(n, a, b) {
  let bestA = null;
  let bestB = null;
  for (let r = 0; r < ROUNDS; r++) {
    const x = a();
    const y = time('better-sqlite3', n, b);
    if (!bestA || x.perSecond > bestA.perSecond) bestA = x;
    if (!bestB || y.perSecond > bestB.perSecond) bestB = y;
  }
  return [bestA, bestB];
}

function ids(n, max, seed) {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return 1 + (x % max);
  });
}

async function main() {
  const db = Database.open(path.join(DIR, 'bench.redb'));
  const t0 = performance.now();
  const stats = await db.generate({ customers: CUSTOMERS, seed: 42 });
  const { sql } = await load(db);
  console.log(`# ${stats.customers} customers, ${stats.touchpoints} touchpoints; loaded both in ${((performance.now() - t0) / 1000).toFixed(1)} s (${DIR})`);
  const readIds = ids(READS, stats.customers, 7);
  const results = [];

  const view = sqlite360(sql);
  results.push([
    '360 read',
    ...duel(READS, () => db.read((r) => time('autocrm', READS, (i) => r.customer360(readIds[i], TIMELINE))), (i) => view(readIds[i])),
  ]);
  const getCustomer = sql.prepare('SELECT payload FROM customers WHERE id = ?');
  const getPhones = sql.prepare('SELECT phone FROM customer_phones WHERE customer_id = ?').pluck();
  const lookups = READS * 4;
  const lookupIds = ids(lookups, stats.customers, 11);
  results.push([
    'point lookup (customer by id)',
    ...duel(
      lookups,
      () => db.read((r) => time('autocrm', lookups, (i) => r.customer(lookupIds[i]))),
      (i) => ({ ...JSON.parse(getCustomer.get(lookupIds[i]).payload), phones: getPhones.all(lookupIds[i]) }),
    ),
  ]);
  const dealer = db.dealers()[0].id;
  const at = new Date(Date.UTC(2026, 5, 1, 9, 0, 0));
  let next = 10_000_000;
  const insert = sql.prepare('INSERT INTO touchpoints VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  results.push([
    'single durable posting (a service visit, own transaction)',
    time('autocrm', WRITES, (i) => db.insertTouchpoint({ at, customer: readIds[i], dealer, channel: 'showroom', kind: 'service_visit', amount: 500 })),
    time('better-sqlite3', WRITES, (i) => {
      const row = { at: at.getTime() / 1000, customer: readIds[i], dealer, kind: 'service_visit', amount: 500 };
      insert.run(next++, readIds[i], row.at, 6, 0, null, dealer, 50000, null, null, null, null, 0, null, null, JSON.stringify(row));
    }),
  ]);
  console.log('| operation | autocrm (Node), ops/s | better-sqlite3, ops/s | ratio |');
  console.log('|---|---:|---:|---:|');
  for (const [name, a, b] of results) {
    console.log(`| ${name} | ${Math.round(a.perSecond).toLocaleString('en')} | ${Math.round(b.perSecond).toLocaleString('en')} | ${(a.perSecond / b.perSecond).toFixed(2)}× |`);
  }
  sql.close();
  db.close();
  if (!args.includes('--dir')) fs.rmSync(DIR, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
