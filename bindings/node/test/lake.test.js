// The lakehouse export off the JS thread: Parquet folders with a manifest, a foreign folder
// refused, a dealer's export holding only its customers, a scope without `export` refused.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Database, date, InvalidOperationError, AccessDeniedError } = require('..');

test('exportLake writes a folder per table, touchpoints by month, the manifest last', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'autocrm-lake-'));
  const db = Database.inMemory({ durable: false });
  try {
    await db.generate({ customers: 300, seed: 7 });
    const dir = path.join(tmp, 'lake');
    const pending = db.exportLake(dir, { asOf: date(2026, 6, 30) });
    assert.ok(pending instanceof Promise);
    const report = await pending;
    assert.equal(report.dir, dir);
    assert.equal(report.scope, null);
    assert.equal(report.asOf.toISOString().slice(0, 10), '2026-06-30');
    const names = report.tables.map((t) => t.name);
    assert.deepEqual(names, ['dealers', 'customers', 'vehicles', 'ownership', 'touchpoints', 'leads',
      'complaints', 'surveys', 'postings', 'lots', 'home_dealers']);
    const customers = report.tables.find((t) => t.name === 'customers');
    assert.equal(customers.rows, 300);
    const tp = report.tables.find((t) => t.name === 'touchpoints');
    assert.equal(tp.partitionedBy, 'month');
    assert.ok(tp.files.length > 12);
    for (const f of tp.files) {
      assert.equal(f.path, `touchpoints/month=${f.partition}/part-0.parquet`);
      assert.equal(fs.statSync(path.join(dir, f.path)).size, f.bytes);
    }
    assert.equal(report.rows, report.tables.reduce((n, t) => n + t.rows, 0));
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, '_manifest.json'), 'utf8'));
    assert.equal(manifest.format, 'autocrm-lake');
    assert.ok('sequence' in manifest && manifest.sequence === null);

    // A folder holding something else: rejected, left alone.
    const other = path.join(tmp, 'other');
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, 'notes.txt'), 'mine');
    await assert.rejects(db.exportLake(other), (e) => e instanceof InvalidOperationError
      && e.code === 'invalid_operation.export_target_not_empty');
    assert.deepEqual(fs.readdirSync(other), ['notes.txt']);

    // A dealer's export: only its customers, the manifest names the scope.
    const code = db.dealers()[0].code;
    const scoped = await db.as(`dealer:${code}`, 'tester').exportLake(path.join(tmp, 'dealer'));
    assert.equal(scoped.scope, `dealer:${code}`);
    const mine = scoped.tables.find((t) => t.name === 'customers').rows;
    assert.ok(mine > 0 && mine < 300, `${mine}`);
    await assert.rejects(db.as('hq:call_centre', 'tester').exportLake(path.join(tmp, 'none')),
      (e) => e instanceof AccessDeniedError);
    assert.ok(!fs.existsSync(path.join(tmp, 'none')));
  } finally {
    db.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('exportLake({ incremental: true }) appends what the change feed says changed', async () => {
  const db = Database.inMemory();
  const id = db.insertCustomer({ name: '王小明' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autocrm-lake-inc-'));
  try {
    await assert.rejects(() => db.exportLake(path.join(dir, 'a'), { incremental: true }), { code: 'invalid_operation.export_not_incremental' });
    db.registerConsumer('lake');
    const lake = path.join(dir, 'lake');
    assert.equal((await db.exportLake(lake)).sequence, 0);
    db.updateCustomer(id, { name: '王晓明' });
    const inc = await db.exportLake(lake, { incremental: true });
    assert.equal(inc.sequence, 1);
    assert.deepEqual(inc.tables.map((t) => t.name), ['customers']);
    assert.ok(fs.existsSync(path.join(lake, 'customers', 'part-1.parquet')));
    await assert.rejects(() => db.exportLake(lake, { incremental: 'yes' }), TypeError);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
