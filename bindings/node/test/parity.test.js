// The reads and writes the Python binding has and Node gained later: each a success and, where
// core can refuse, one refusal.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { date, localTime } = require('..');
const { build, vin, nationalId } = require('./fixture');

/** A unified social credit code (GB 32100) with a valid check character from its first 17. */
function creditCode(first17) {
  const alphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY';
  const weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += alphabet.indexOf(first17[i]) * weights[i];
  return first17 + alphabet[(31 - (sum % 31)) % 31];
}

test('leadsOf, complaintsOf, surveysOf', () => {
  const f = build();
  const { db } = f;
  const lead = db.insertLead({ customer: f.li, origin: 'web', model: 'ID.4', intent: 'H', received: localTime(2025, 5, 2, 10), dealer: f.d2 });
  const complaint = db.insertComplaint({ customer: f.li, category: 'service', received: localTime(2025, 5, 3, 11), dealer: f.d2 });
  const survey = db.insertSurvey({ customer: f.li, kind: 'service', date: date(2025, 5, 4), items: { friendliness: 9 }, dealer: f.d2 });
  const leads = db.leadsOf(f.li);
  assert.deepEqual(leads.map((l) => l.id), [lead]);
  assert.equal(leads[0].model, 'ID.4');
  const complaints = db.complaintsOf(f.li);
  assert.deepEqual(complaints.map((c) => c.id), [complaint]);
  assert.equal(complaints[0].status, 'received');
  const surveys = db.read((r) => r.surveysOf(f.li));
  assert.deepEqual(surveys.map((s) => s.id), [survey]);
  assert.deepEqual(db.leadsOf(f.wang), []);
  assert.deepEqual(db.complaintsOf(f.wang), []);
  assert.deepEqual(db.surveysOf(f.wang), []);
  // Core returns nothing for an unknown customer; an id that is not one is refused before core is asked.
  assert.deepEqual(db.leadsOf(999), []);
  assert.throws(() => db.complaintsOf(-1), TypeError);
});

test('rollup', () => {
  const f = build();
  const { db } = f;
  const r = db.rollup(f.wang);
  assert.equal(r.counts.service_visit, 1);
  assert.equal(r.spend.service_visit, 1200);
  assert.equal(r.partsSpend, 1000);
  assert.equal(r.serviceVisits, 1);
  assert.equal(r.maxMileageKm, 15000);
  assert.equal(r.vehiclesCurrent, 1);
  assert.deepEqual(r, db.customer360(f.wang).rollup);
  // A customer without history has an all-zero rollup.
  const empty = db.rollup(db.insertCustomer({ name: '赵敏' }));
  assert.equal(empty.serviceVisits, 0);
  assert.equal(empty.lastTouch, null);
});

test('vehicleCount, touchpointCount, customerIds', () => {
  const f = build();
  const { db } = f;
  assert.equal(db.vehicleCount(), 2);
  assert.equal(db.touchpointCount(), 2);
  assert.deepEqual(db.customerIds(), [f.wang, f.li]);
  const c = db.insertCustomer({ name: '赵敏' });
  db.read((r) => {
    assert.deepEqual(r.customerIds(), [f.wang, f.li, c]);
    assert.equal(r.vehicleCount(), 2);
  });
});

test('customerByNationalId, customerByCreditCode', () => {
  const f = build();
  const { db } = f;
  assert.equal(db.customerByNationalId(nationalId('11010119900307457')), f.wang);
  assert.equal(db.customerByNationalId(nationalId('11010119900307458')), null);
  assert.throws(() => db.customerByNationalId('110101199003074570'), { name: 'ValidationError', field: 'nationalId' });
  const code = creditCode('91310000MA1FL0000');
  const org = db.insertCustomer({ kind: 'organisation', name: '上海申通物流有限公司', creditCode: code });
  assert.equal(db.customerByCreditCode(code), org);
  assert.equal(db.customerByCreditCode(code.toLowerCase()), org);
  assert.equal(db.customerByCreditCode(creditCode('91310000MA1FL0001')), null);
  assert.throws(() => db.customerByCreditCode('not a code'), { name: 'ValidationError', code: 'validation.credit_code_format' });
});

test('insertVehicles', () => {
  const f = build();
  const { db } = f;
  const ids = db.insertVehicles([
    { vin: vin(200001), brand: 'Volkswagen', model: 'Lavida', owner: f.li, since: date(2025, 1, 1) },
    { vin: vin(200002), brand: 'Volkswagen', model: 'ID.4' },
  ]);
  assert.equal(ids.length, 2);
  assert.equal(db.vehicleByVin(vin(200001)), ids[0]);
  assert.equal(db.vehicle(ids[0]).owners[0].customer, f.li);
  assert.equal(db.vehicleCount(), 4);
  // A duplicate VIN in the second record: named by `record`, and the batch is rolled back.
  assert.throws(
    () => db.insertVehicles([
      { vin: vin(200003), brand: 'Volkswagen', model: 'Lavida' },
      { vin: vin(183294), brand: 'Volkswagen', model: 'Passat' },
    ]),
    (e) => {
      assert.equal(e.name, 'DuplicateKeyError');
      assert.equal(e.record, 1);
      return true;
    },
  );
  assert.equal(db.vehicleByVin(vin(200003)), null);
  // A record that does not convert is named by its position.
  assert.throws(() => db.insertVehicles([{ vin: vin(200004), brand: 'VW', model: 'Passat' }, { vin: vin(200006), brand: 'VW', model: 'Passat', owner: f.wang }]), { code: 'validation.required', field: 'since', record: 1 });
  assert.throws(() => db.insertVehicles([{ vin: vin(200004), brand: 7, model: 'Passat' }]), (e) => e instanceof TypeError && /record 0/.test(e.message));
  db.write((tx) => {
    assert.equal(tx.insertVehicles([{ vin: vin(200005), brand: 'VW', model: 'Polo' }]).length, 1);
  });
});
