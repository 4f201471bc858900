// The feedback queue fed by hand (`reject`, as Python's `WriteTxn.reject`), `feedbackAll`,
// `homeDealersTable` and `Database.vacuum` of a missing file.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { tableFromIPC } = require('apache-arrow');
const { Database, ValidationError, StorageError, date, localTime } = require('..');
const { build, nationalId } = require('./fixture');

const GOOD_ID = nationalId('11010119850512123');
// The same ID with a wrong check digit.
const BAD_ID = GOOD_ID.slice(0, 17) + (GOOD_ID[17] === '0' ? '1' : '0');

test('reject: a caught upsert error is queued with its code, field, raw and line; a corrected upsert clears it', () => {
  const { db, d1 } = build();
  db.registerSource('portal', 50);
  const rec = { name: '赵六', phones: ['13600136000'], province: '上海', city: '上海', dealer: d1, source: ['portal', 'c7'] };
  const raw = `c7,赵六,13600136000,${BAD_ID}`;
  let caught;
  try {
    db.upsertCustomer({ ...rec, nationalId: BAD_ID });
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ValidationError, String(caught));
  assert.equal(caught.field, 'nationalId');

  const id = db.write((tx) => tx.reject('customer', ['portal', 'c7'], raw, caught, { dealer: d1, line: 12, receivedAt: localTime(2025, 2, 1, 8) }));
  assert.equal(typeof id, 'number');
  const [entry] = db.feedback(d1);
  assert.equal(entry.id, id);
  assert.equal(entry.code, 'validation.national_id_check_digit');
  // Core's field name, as an importer's rejection of the same row stores it.
  assert.equal(entry.field, 'national_id');
  assert.equal(entry.raw, raw);
  assert.equal(entry.line, 12);
  assert.equal(entry.message, caught.message);
  assert.equal(entry.dealer, d1);
  assert.deepEqual(entry.received, localTime(2025, 2, 1, 8));
  // No hint was passed: core's hint for the code.
  assert.match(entry.hint, /re-type/);
  assert.deepEqual(db.feedbackEntry('customer', ['portal', 'c7']), entry);
  assert.deepEqual(db.rejectionCounts(), [{ dealer: d1, code: 'validation.national_id_check_digit', count: 1 }]);

  // Rejected again (on the Database, its own transaction): the same entry, not a second one.
  assert.equal(db.reject('customer', ['portal', 'c7'], raw, caught, { dealer: d1, line: 13 }), id);
  assert.equal(db.feedback(d1).length, 1);
  assert.equal(db.feedbackEntry('customer', ['portal', 'c7']).line, 13);

  // The corrected record from the same source record is accepted and leaves the queue.
  const ok = db.upsertCustomer({ ...rec, nationalId: GOOD_ID });
  assert.equal(ok.outcome, 'created');
  assert.equal(db.feedbackEntry('customer', ['portal', 'c7']), null);
  assert.deepEqual(db.feedback(d1), []);
  db.close();
});

test('reject: a plain { code, message } object; no code is a TypeError; a bad kind or option is refused', () => {
  const { db, d2 } = build();
  const id = db.reject('vehicle', { system: 'dms', recordId: 'v9' }, 'v9,???', {
    code: 'validation.vin_format', message: 'vin: not 17 characters', field: 'vin', hint: 'ask the dealer',
  });
  const e = db.feedbackEntry('vehicle', ['dms', 'v9']);
  assert.equal(e.id, id);
  assert.deepEqual([e.dealer, e.code, e.field, e.hint, e.line], [null, 'validation.vin_format', 'vin', 'ask the dealer', null]);
  assert.throws(() => db.reject('customer', ['dms', 'x'], 'x', new TypeError('not core')), TypeError);
  assert.throws(() => db.reject('customer', ['dms', 'x'], 'x', { message: 'no code' }), TypeError);
  assert.throws(() => db.reject('customer', ['dms', 'x'], 'x', null), TypeError);
  assert.throws(() => db.reject('customer', ['dms', 'x'], 'x', { code: 'not_found' }), TypeError); // no message
  assert.throws(() => db.reject('customer', ['dms', 'x'], 'x', { code: 'not_found', message: 'm' }, { dealr: d2 }), TypeError);
  assert.throws(() => db.reject('invoice', ['dms', 'x'], 'x', { code: 'not_found', message: 'm' }), { name: 'ImportError' });
  // Nothing of the refused calls was queued.
  assert.equal(db.feedbackAll().length, 1);
  db.close();
});

test('feedbackAll: every queue, the unassigned one first, on a snapshot and on the database', () => {
  const { db, d1, d2 } = build();
  const why = { code: 'validation.name_too_short', message: 'name: too short', field: 'name' };
  db.write((tx) => {
    tx.reject('customer', ['dms', 'b'], 'b', why, { dealer: d2 });
    tx.reject('customer', ['dms', 'a'], 'a', why, { dealer: d1 });
    tx.reject('customer', ['dms', 'u'], 'u', why);
  });
  const all = db.feedbackAll();
  assert.deepEqual(all.map((e) => [e.dealer, e.raw]), [[null, 'u'], [d1, 'a'], [d2, 'b']]);
  assert.deepEqual(db.read((r) => r.feedbackAll()), all);
  assert.deepEqual(Database.inMemory().feedbackAll(), []);
  db.close();
});

test('homeDealersTable: an Arrow table of customer, home_dealer agreeing with homeDealer', async () => {
  const db = Database.inMemory();
  await db.generate({ customers: 60, seed: 7 });
  const on = date(2026, 6, 30);
  const t = tableFromIPC(await db.homeDealersTable(on));
  assert.deepEqual(t.schema.fields.map((f) => f.name), ['customer', 'home_dealer']);
  assert.equal(t.numRows, db.customerCount());
  const customers = t.getChild('customer').toArray();
  const dealers = t.getChild('home_dealer').toArray();
  const homes = t.getChild('home_dealer');
  let withHome = 0;
  for (let i = 0; i < t.numRows; i++) {
    const c = Number(customers[i]);
    const expected = await db.homeDealer(c, on);
    const got = homes.isValid(i) ? Number(dealers[i]) : null;
    assert.equal(got, expected, `customer ${c}`);
    if (got !== null) withHome += 1;
  }
  assert.ok(withHome > 0, 'some customer has a home dealer');
  // On one snapshot as well; a malformed date is a RangeError.
  const again = await db.read((r) => r.homeDealersTable('2026-06-30'));
  assert.equal(tableFromIPC(again).numRows, t.numRows);
  await assert.rejects(db.homeDealersTable('2026-13-01'), RangeError);
  db.close();
});

test('Database.vacuum of a missing file rejects with a storage error and creates nothing', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autocrm-vacuum-'));
  const file = path.join(dir, 'typo.redb');
  await assert.rejects(Database.vacuum(file), (e) => {
    assert.ok(e instanceof StorageError, String(e));
    assert.equal(e.code, 'io');
    assert.equal(e.details.path, file);
    assert.match(e.message, /typo\.redb/);
    return true;
  });
  assert.equal(fs.existsSync(file), false);
  // An existing, closed file vacuums.
  const db = Database.open(file);
  db.insertCustomer({ name: '王小明', phones: ['13800138000'] });
  db.close();
  await Database.vacuum(file);
  const back = Database.open(file);
  assert.equal(back.customerCount(), 1);
  back.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
