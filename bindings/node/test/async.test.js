// Work off the JS thread: generate, imports, analytics, Arrow tables; many promises at once;
// closing while work runs.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { tableFromIPC } = require('apache-arrow');
const { Database, date } = require('..');
const { build } = require('./fixture');

test('generate a network, then KPIs, segments and tables as promises', async () => {
  const db = Database.inMemory({ durable: false });
  const stats = await db.generate({ customers: 300, seed: 7 });
  assert.equal(stats.customers, 300);
  assert.ok(stats.touchpoints > 0);
  const rows = await db.kpi('after_sales_churn', '2025-06', 'dealer');
  assert.ok(rows.length >= 1);
  const months = await db.read((r) => Promise.all(
    ['2025-01', '2025-02', '2025-03'].map((m) => r.kpi('retention', m)),
  ));
  assert.equal(months.length, 3);
  const set = await db.evaluate('vehicle_count >= 1', date(2026, 6, 30));
  assert.equal(set.size, set.ids.length);
  for (const name of ['customers', 'vehicles', 'ownership', 'touchpoints', 'postings', 'leads', 'complaints', 'surveys']) {
    const t = tableFromIPC(await db.table(name));
    assert.ok(t.numRows >= 0, name);
  }
  const customers = tableFromIPC(await db.table('customers', { threads: 2 }));
  assert.equal(customers.numRows, 300);
  db.close();
});

test('imports: CSV from a buffer, report with rejections', async () => {
  const { db } = build();
  const csv = 'source_system,source_id,name,phones\ndms,R1,陈静,13600136000\ndms,R2,王先生,13600136001\n';
  const seen = [];
  const report = await db.importBuffer(csv, 'customers_dms.csv', { batchSize: 1, progress: (p) => seen.push(p) });
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(seen.length >= 1);
  assert.equal(seen.at(-1).totalBytes, Buffer.byteLength(csv));
  assert.equal(report.kind, 'customer');
  assert.equal(report.rows, 2);
  assert.equal(report.created, 1);
  assert.equal(report.rejected, 1);
  assert.deepEqual(db.customersByPhone('13600136000').length, 1);
  await assert.rejects(db.importBuffer('x', 'mystery.csv'), RangeError);
  await assert.rejects(db.importFile('/nonexistent/customers.csv'), { name: 'ImportError' });
});

test('many promises at once against one database', async () => {
  const db = Database.inMemory({ durable: false });
  await db.generate({ customers: 200 });
  const work = [];
  for (let i = 0; i < 40; i++) {
    work.push(db.kpi('retention', `2025-${String((i % 12) + 1).padStart(2, '0')}`, 'dealer'));
    work.push(db.table('touchpoints'));
    work.push(db.segmentCount('vehicle_count >= 1', date(2026, 1, 1)));
  }
  // Synchronous writes interleave with the pool's reads.
  for (let i = 0; i < 20; i++) db.insertCustomer({ name: `测试客户${'甲乙丙丁戊己庚辛壬癸'[i % 10]}` });
  const results = await Promise.all(work);
  assert.equal(results.length, 120);
  assert.equal(db.customerCount(), 220);
  db.close();
});

test('closing while work runs: every promise settles, the process survives', async () => {
  const db = Database.inMemory({ durable: false });
  await db.generate({ customers: 500 });
  const pending = [
    db.table('customers'),
    db.kpi('after_sales_churn', '2025', 'dealer'),
    db.table('touchpoints'),
    db.segmentCount('vehicle_count >= 1', date(2026, 1, 1)),
  ];
  db.close();
  const settled = await Promise.allSettled(pending);
  for (const s of settled) {
    if (s.status === 'rejected') assert.equal(s.reason.code, 'invalid_operation.database_closed');
  }
  await assert.rejects(db.kpi('retention', '2025'), { code: 'invalid_operation.database_closed' });
  assert.throws(() => db.customer(1), { code: 'invalid_operation.database_closed' });
});
