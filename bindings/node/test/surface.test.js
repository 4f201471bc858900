// Updates and deletes, the complaint workflow, the segment lifecycle, HQ roles and batch
// inserts: each a success and one refusal.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { Database, date, localTime } = require('..');
const { build, vin } = require('./fixture');

test('deleteCustomer, updateVehicle, updateLead', () => {
  const f = build();
  const { db } = f;
  const gone = db.insertCustomer({ name: '赵敏', phones: ['13600136000'] });
  db.deleteCustomer(gone);
  assert.throws(() => db.customer(gone), { name: 'NotFoundError', code: 'not_found' });
  // A customer who owns a vehicle cannot be deleted.
  assert.throws(() => db.deleteCustomer(f.li), (e) => e.name === 'InvalidOperationError' && /vehicle/.test(e.message));
  db.updateVehicle(f.v1, { vin: vin(183294), brand: 'Volkswagen', model: 'Passat', plate: '沪A54321' });
  assert.equal(db.vehicleByPlate('沪A54321'), f.v1);
  assert.equal(db.vehicle(f.v1).owners[0].customer, f.wang); // ownership unchanged
  assert.throws(() => db.updateVehicle(f.v1, { vin: vin(183294), brand: 'VW', model: 'Passat', owner: f.li, since: date(2025, 1, 1) }), TypeError);
  const lead = db.insertLead({ customer: f.li, origin: 'web', model: 'ID.4', intent: 'H', received: localTime(2025, 5, 2, 10), dealer: f.d2 });
  db.updateLead(lead, { customer: f.li, origin: 'web', model: 'ID.6', intent: 'A', received: localTime(2025, 5, 2, 10), dealer: f.d2 });
  assert.equal(db.lead(lead).model, 'ID.6');
  assert.throws(
    () => db.updateLead(lead, { customer: f.wang, origin: 'web', model: 'ID.6', intent: 'A', received: localTime(2025, 5, 2, 10) }),
    (e) => e.name === 'InvalidOperationError' && e.code.startsWith('invalid_operation'),
  );
});

test('complaint workflow and escalations', () => {
  const f = build();
  const { db } = f;
  const id = db.insertComplaint({ customer: f.li, category: 'service', received: localTime(2025, 5, 3, 11), dealer: f.d2 });
  const r = db.respondToComplaint(id, localTime(2025, 5, 3, 12));
  assert.deepEqual(r.firstResponse, localTime(2025, 5, 3, 12));
  assert.throws(() => db.respondToComplaint(id, localTime(2025, 5, 3, 13)), { name: 'InvalidOperationError' });
  assert.equal(db.advanceComplaint(id, localTime(2025, 5, 4)).status, 'analysed');
  assert.equal(db.advanceComplaint(id, localTime(2025, 5, 5), 'resolved').status, 'resolved');
  assert.throws(() => db.advanceComplaint(id, localTime(2025, 5, 6), 'closed'), { name: 'InvalidOperationError' });
  assert.throws(() => db.advanceComplaint(id, localTime(2025, 5, 6), 'nonsense'), RangeError);
  db.write((tx) => {
    for (let d = 10; d < 14; d++) tx.insertComplaint({ customer: f.wang, category: 'noise', received: localTime(2025, 6, d, 9), dealer: f.d1 });
  });
  const esc = db.complaintEscalations(date(2025, 6, 20));
  assert.equal(esc.length, 1);
  assert.equal(esc[0].customer, f.wang);
  assert.equal(esc[0].month.length, 4);
  assert.deepEqual(esc[0].dealers, [f.d1]);
  assert.deepEqual(db.complaintEscalations(date(2025, 6, 20), { monthLimit: 10, quarterLimit: 10 }), []);
  assert.throws(() => db.complaintEscalations(date(2025, 6, 20), { weekLimit: 1 }), TypeError);
});

test('segment lifecycle: versions, materialise, diff', () => {
  const f = build();
  const { db } = f;
  db.saveSegment('regulars', 'count(service_visit, 365d) >= 1', localTime(2025, 1, 1));
  db.saveSegment('regulars', 'count(service_visit, 365d) >= 2', localTime(2025, 2, 1));
  const versions = db.segment('regulars');
  assert.equal(versions.length, 2);
  assert.equal(versions[1].definition, 'count(service_visit, 365d) >= 2');
  assert.deepEqual(versions[0].saved, localTime(2025, 1, 1));
  assert.equal(db.segment('nobody'), null);
  db.saveSegment('visited', 'count(service_visit, 365d) >= 1');
  const a = db.materialiseSegment('visited', date(2025, 3, 15));
  assert.deepEqual(a, { size: 1, ids: [f.wang] });
  db.materialiseSegment('visited', date(2025, 4, 15));
  assert.deepEqual(db.materialised('visited', date(2025, 4, 15)).ids, [f.wang, f.li]);
  assert.equal(db.materialised('visited', date(2025, 5, 1)), null);
  const diff = db.segmentDiff('visited', date(2025, 3, 15), date(2025, 4, 15));
  assert.deepEqual(diff, { entered: { size: 1, ids: [f.li] }, left: { size: 0, ids: [] } });
  assert.throws(() => db.segmentDiff('visited', date(2025, 3, 15), date(2025, 5, 1)), { name: 'InvalidOperationError' });
  assert.throws(() => db.materialiseSegment('nobody', date(2025, 3, 15)), { code: 'not_found' });
});

test('HQ roles on a scoped handle', () => {
  const f = build();
  const admin = f.db.as('hq:data_admin', 'root');
  const roles = admin.roles();
  assert.ok(roles.marketing.permissions.includes('read_customers'));
  admin.setRole('auditor', ['read_audit'], 'sms');
  assert.deepEqual(admin.roles().auditor, { permissions: ['read_audit'], consentedChannel: 'sms' });
  assert.ok(f.db.as('hq:auditor', 'eve').verifyAudit().ok);
  admin.setRole('auditor', null);
  assert.equal(admin.roles().auditor, undefined);
  assert.throws(() => admin.setRole('x', ['fly']), RangeError);
  const dealer = f.db.as('dealer:SH0001', 'alice');
  assert.throws(() => dealer.roles(), { name: 'AccessDeniedError', code: 'access_denied' });
  assert.throws(() => dealer.setRole('x', ['read_audit']), { name: 'AccessDeniedError' });
});

test('batch inserts of leads, complaints and surveys', () => {
  const f = build();
  const { db } = f;
  const leads = db.insertLeads([
    { customer: f.li, origin: 'web', model: 'ID.4', intent: 'H', received: localTime(2025, 5, 2, 10) },
    { customer: f.wang, origin: 'web', model: 'ID.6', intent: 'A', received: localTime(2025, 5, 2, 11) },
  ]);
  assert.equal(leads.length, 2);
  assert.equal(db.lead(leads[1]).model, 'ID.6');
  const cs = db.insertComplaints([{ customer: f.li, category: 'noise', received: localTime(2025, 5, 3, 11) }]);
  assert.equal(db.complaint(cs[0]).category, 'noise');
  const ss = db.insertSurveys([{ customer: f.li, kind: 'service', date: date(2025, 5, 4), items: { friendliness: 9 } }]);
  assert.equal(db.survey(ss[0]).items.friendliness, 9);
  assert.throws(
    () => db.insertLeads([{ customer: f.li, origin: 'web', model: 'ID.4', intent: 'H', received: localTime(2025, 5, 2, 10) }, { customer: f.li, origin: 'web' }]),
    (e) => /record 1/.test(e.message) || e.record === 1,
  );
  assert.equal(Database.inMemory().insertSurveys([]).length, 0);
});

test('custom loyalty configuration and the ledger check', () => {
  const db = Database.inMemory();
  const ids = db.write((tx) => {
    const d = tx.insertDealer({ code: 'SH0001', name: '上海浦东店', region: 'East', province: '上海', city: '上海' });
    const c = tx.insertCustomer({ name: '王小明', phones: ['13800138000'] });
    tx.setLoyaltyConfig({
      rules: [{ name: 'service', kind: 'service_visit', pointsPerYuan: 2, amount: 'parts' }],
      multipliers: { silver: 100 },
      lotDays: 365,
      benefits: { gold: { labourDiscountPct: 10, priority: true } },
    });
    tx.joinBrandClub(c, date(2024, 1, 1));
    return { d, c };
  });
  db.insertTouchpoint({ at: localTime(2025, 3, 1, 9), customer: ids.c, dealer: ids.d, channel: 'showroom', kind: 'service_visit', partsAmount: 100, amount: 150 });
  assert.equal(db.balance(ids.c).points, 200);
  const check = db.verifyLedger();
  assert.equal(check.ok, true);
  assert.deepEqual(check.problems, []);
  assert.ok(check.postings >= 1);
  assert.throws(() => db.setLoyaltyConfig({ lotDays: 0 }), { name: 'ValidationError', code: 'validation.out_of_range' });
  assert.throws(() => db.setLoyaltyConfig({ rules: [{ name: 'x', kind: 'service_visit', points: 1, pointsPerYuan: 1 }] }), TypeError);
  assert.throws(() => db.setLoyaltyConfig({ lotdays: 30 }), TypeError);
  db.setLoyaltyConfig(); // core's defaults
});
