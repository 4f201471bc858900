// Every method of Database, WriteTransaction and ReadTransaction, unscoped.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const autocrm = require('..');
const { Database, date, localTime } = autocrm;
const { build, vin, nationalId } = require('./fixture');

function tmpdir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'autocrm-node-'));
}

test('open a file, write, close, reopen', () => {
  const dir = tmpdir();
  const file = path.join(dir, 'crm.redb');
  const db = Database.open(file, { durable: false, utcOffset: '+08:00' });
  assert.equal(db.path, file);
  assert.equal(db.closed, false);
  const id = db.insertCustomer({ name: '张伟', phones: ['13700137000'] });
  assert.ok(db.now() instanceof Date);
  db.close();
  db.close(); // idempotent
  assert.equal(db.closed, true);
  const again = Database.open(file, { readOnly: true });
  assert.equal(again.customer(id).name, '张伟');
  assert.throws(() => again.insertCustomer({ name: '李雷' }), { name: 'ReadOnlyError', code: 'read_only' });
  again.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('customers, vehicles, touchpoints and the 360 view', () => {
  const f = build();
  const { db } = f;
  const c = db.customer(f.wang);
  assert.equal(c.name, '王小明');
  assert.deepEqual(c.phones, ['13800138000']);
  assert.deepEqual(c.birthDate, date(1990, 3, 7));
  assert.equal(c.gender, 'male');
  assert.equal(db.customerCount(), 2);
  assert.deepEqual(db.findCustomers('沪A12345'), [f.wang]);
  assert.deepEqual(db.findCustomers(vin(183295)), [f.li]);
  assert.deepEqual(db.findCustomers('13800138000'), [f.wang]);
  assert.deepEqual(db.customersByPhone('13900139000'), [f.li]);
  assert.equal(db.vehicleByPlate('沪A12345'), f.v1);
  assert.equal(db.vehicleByVin(vin(183294)), f.v1);
  assert.equal(db.vehicleByPlate('沪Z99999'), null);
  const v = db.vehicle(f.v1);
  assert.equal(v.model, 'Passat');
  assert.deepEqual(v.owners, [{ customer: f.wang, since: date(2023, 4, 1), until: null }]);
  assert.equal(db.vehiclesOf(f.wang).length, 1);
  const t = db.touchpoint(f.t1);
  assert.deepEqual(t.at, localTime(2025, 3, 1, 9, 30));
  assert.equal(t.amount, 1200);
  assert.equal(t.kind, 'service_visit');
  const view = db.customer360(f.wang);
  assert.equal(view.id, f.wang);
  assert.equal(view.customer.nationalId.length, 18);
  assert.equal(view.currentVehicles[0].plate, '沪A12345');
  assert.equal(view.rollup.counts.service_visit, 1);
  assert.equal(view.rollup.serviceVisits, 1);
  assert.equal(view.timeline.items.length, 1);
  assert.deepEqual(view.masked, []);
  const page = db.timeline(f.wang, 10);
  assert.equal(page.items[0].id, f.t1);
  assert.equal(page.next, null);
  assert.equal(db.dealerByCode('SH0001'), f.d1);
  assert.equal(db.dealer(f.d1).code, 'SH0001');
  assert.equal(db.dealers().length, 2);
});

test('update, transfer, leads, complaints, surveys, consents, segments', () => {
  const f = build();
  const { db } = f;
  db.updateCustomer(f.li, { name: '李华', phones: ['13900139000'], city: '天津', province: '天津' });
  assert.equal(db.customer(f.li).city, '天津');
  db.transferVehicle(f.v2, f.wang, date(2025, 5, 1));
  assert.equal(db.vehicle(f.v2).owners.at(-1).customer, f.wang);
  const lead = db.insertLead({
    customer: f.li, origin: 'web', model: 'ID.4', intent: 'H', received: localTime(2025, 5, 2, 10),
    dealer: f.d2, status: 'lost', lostReason: 'price',
  });
  const complaint = db.insertComplaint({ customer: f.li, category: 'service', received: localTime(2025, 5, 3, 11), dealer: f.d2 });
  const survey = db.insertSurvey({ customer: f.li, kind: 'service', date: date(2025, 5, 4), dealer: f.d2, items: { friendliness: 9, repair_process: 8 } });
  const view = db.customer360(f.li);
  assert.deepEqual(view.leads.map((l) => [l.id, l.status, l.lostReason]), [[lead, 'lost', 'price']]);
  assert.equal(view.complaints[0].id, complaint);
  assert.equal(view.complaints[0].status, 'received');
  assert.equal(view.surveys[0].id, survey);
  assert.equal(view.surveys[0].items.friendliness, 9);
  db.recordConsent(f.li, { channel: 'sms', granted: true, at: localTime(2025, 5, 5), source: 'portal' });
  const version = db.saveSegment('regulars', 'count(service_visit, 365d) >= 1');
  assert.equal(version, 1);
});

test('loyalty: earn through touchpoints, redeem idempotently, reverse, adjust, tiers', () => {
  const f = build();
  const { db } = f;
  assert.equal(db.balance(f.wang).points, 1000); // service parts earn 1 brand point per yuan
  const wallets = db.walletsOf(f.wang);
  assert.ok(wallets.some((w) => w.wallet === 'brand' && w.points === 1000));
  const r = { customer: f.wang, points: 300, at: localTime(2025, 6, 1, 12), item: 'car wash', key: 'order-1' };
  const p1 = db.redeem(r);
  const p2 = db.redeem(r); // a retry spends once
  assert.equal(p1, p2);
  assert.equal(db.balance(f.wang).points, 700);
  assert.equal(db.postingByKey('order-1').points, -300);
  assert.throws(() => db.redeem({ ...r, points: 301 }), { name: 'IdempotencyConflictError', code: 'idempotency_conflict' });
  assert.throws(() => db.redeem({ ...r, key: 'order-2', points: 100000 }), (e) => {
    assert.equal(e.name, 'InsufficientPointsError');
    assert.equal(e.code, 'insufficient_points');
    assert.equal(e.details.available, 700);
    return true;
  });
  const earn = db.postingsOf(f.wang).find((p) => p.kind === 'earn' && p.wallet === 'brand');
  db.reverse({ credit: earn.id, at: localTime(2025, 6, 2), operator: 'ops', reason: 'refund', key: 'rev-1' });
  assert.ok(db.balance(f.wang).points <= 0);
  db.adjust({ customer: f.wang, points: 50, at: localTime(2025, 6, 3), operator: 'ops', reason: 'goodwill', key: 'adj-1' });
  assert.equal(db.postingByKey('adj-1').kind, 'adjust');
  assert.equal(db.membership(f.wang).source, 'app');
  const m = db.joinDealerClub(f.wang, f.d1, date(2025, 1, 1));
  assert.equal(m.dealerClubs[0].dealer, f.d1);
  const tier = db.tierStatus(f.wang, date(2025, 6, 30));
  assert.equal(typeof tier.tier, 'string');
  assert.equal(db.postingByKey('nope'), null);
});

test('transactions: commit on return, roll back on throw, synchronous only', () => {
  const { db } = build();
  assert.throws(() => db.write((tx) => {
    tx.insertCustomer({ name: '赵敏' });
    throw new Error('boom');
  }), /boom/);
  assert.equal(db.customerCount(), 2);
  const id = db.write((tx) => tx.insertCustomer({ name: '赵敏' }));
  assert.equal(db.customer(id).name, '赵敏');
  assert.throws(() => db.write(async () => 1), TypeError);
  assert.equal(db.customerCount(), 3);
  // A second writer on this thread would wait forever: refused instead.
  assert.throws(() => db.write(() => db.insertCustomer({ name: '周芷若' })), {
    name: 'InvalidOperationError', code: 'invalid_operation.write_transaction_reentrant',
  });
  // Explicit commit inside the callback, then any call is refused.
  db.write((tx) => {
    tx.commit();
    assert.equal(tx.finished, true);
    assert.throws(() => tx.insertCustomer({ name: '张无忌' }), { code: 'invalid_operation.transaction_finished' });
  });
  const n = db.read((r) => r.customerCount());
  assert.equal(n, 3);
  db.write((tx) => {
    tx.setDurable(false);
    tx.insertCustomer({ name: '张三丰' });
    tx.abort();
  });
  assert.equal(db.customerCount(), 3);
});

test('erasure and audit verification', () => {
  const f = build();
  const { db } = f;
  const e = db.eraseCustomer(f.li, 'dpo', 'PIPL art. 47 request 17');
  assert.equal(e.customer, f.li);
  assert.equal(e.by, 'dpo');
  assert.equal(typeof e.hadValidInfo, 'boolean');
  assert.equal(e.hadValidInfo, db.erasure(f.li).hadValidInfo);
  assert.notEqual(db.customer(f.li).name, '李华');
  const v = db.verifyAudit();
  assert.equal(v.ok, true);
  assert.ok(v.entries >= 1);
  assert.equal(v.head.hash.length, 64);
  const log = db.auditLog(f.li);
  assert.equal(log.at(-1).action, 'erase');
  assert.equal(db.check().ok, true);
});

test('every error class carries core code, field and record', async () => {
  const f = build();
  const { db } = f;
  assert.throws(() => db.customer(999), (e) => {
    assert.ok(e instanceof autocrm.NotFoundError);
    assert.ok(e instanceof autocrm.AutocrmError);
    assert.ok(e instanceof Error);
    assert.equal(e.code, 'not_found');
    assert.equal(e.details.entity, 'customer');
    return true;
  });
  assert.throws(() => db.insertCustomer({ name: '王大伟', phones: ['1380'] }), (e) => {
    assert.equal(e.name, 'ValidationError');
    assert.equal(e.code, 'validation.phone_too_short');
    assert.equal(e.field, 'phones');
    assert.equal(e.details.rule, 'phone_too_short');
    return true;
  });
  assert.throws(() => db.insertCustomer({ name: '王先生' }), { code: 'validation.name_placeholder', field: 'name' });
  // Every error says how to fix it, in core's words for its code.
  assert.throws(() => db.insertCustomer({ name: '王先生' }), (e) => /salutations, not names/.test(e.hint));
  assert.throws(() => db.customer(99999), (e) => e.code === 'not_found' && typeof e.hint === 'string');
  assert.throws(() => db.insertCustomer({ kind: 'organisation', name: '上海申通物流有限公司', nationalId: '1' }), { code: 'validation.not_allowed', field: 'nationalId' });
  assert.throws(() => db.insertDealer({ code: 'SH0001', name: '上海二店', region: 'East', province: '上海', city: '上海' }), { name: 'DuplicateKeyError', code: 'duplicate_key' });
  assert.throws(() => db.insertVehicle({ vin: 'LSVAU218XN2183290', brand: 'VW', model: 'Passat' }), { code: 'validation.vin_check_digit', field: 'vin' });
  assert.throws(() => db.insertVehicle({ vin: vin(1), brand: 'VW', model: 'Passat', owner: f.wang }), { code: 'validation.required', field: 'since' });
  assert.throws(() => db.insertLead({ customer: f.li, origin: 'web', model: 'x', intent: 'H', received: new Date(), status: 'won', lostReason: 'price' }), { code: 'validation.not_allowed', field: 'lostReason' });
  assert.throws(() => db.saveSegment('bad', 'nonsense >'), { name: 'RuleError' });
  assert.throws(() => db.saveSegment('long', 'x'.repeat(100000)), { name: 'LimitExceededError' });
  assert.throws(() => db.as('nobody', 'x'), { name: 'UnknownScopeError', code: 'unknown_scope' });
  assert.throws(() => db.as('dealer:XX9999', 'x'), { name: 'UnknownScopeError' });
  // Conversion errors are JS's own classes.
  assert.throws(() => db.insertCustomer({ name: '王小红', nickname: 'x' }), TypeError);
  assert.throws(() => db.insertTouchpoint({ at: new Date(), customer: f.wang, channel: 'pigeon', kind: 'enquiry' }), RangeError);
  assert.throws(() => db.insertTouchpoint({ at: new Date(), customer: f.wang, channel: 'sms', kind: 'enquiry', amount: 1.005 }), RangeError);
  assert.throws(() => db.findCustomers('???'), RangeError);
  assert.throws(() => db.customer('one'), TypeError);
  assert.throws(() => db.customer(), TypeError);
  await assert.rejects(db.kpi('after_sales_churn', '2025-13'), { code: 'validation.not_allowed', field: 'period' });
  await assert.rejects(db.kpi('happiness', '2025'), RangeError);
  db.close();
  assert.throws(() => db.customer(1), { name: 'InvalidOperationError', code: 'invalid_operation.database_closed' });
});

test('a file open twice is already_open', () => {
  const dir = tmpdir();
  const file = path.join(dir, 'crm.redb');
  const db = Database.open(file);
  assert.throws(() => Database.open(file), { name: 'AlreadyOpenError', code: 'already_open' });
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a panic in the native module is an InternalError, sync and async', async () => {
  assert.throws(() => autocrm._forcePanic(false), { name: 'InternalError', code: 'internal' });
  await assert.rejects(autocrm._forcePanic(true), { name: 'InternalError', code: 'internal' });
});

test('lineage, conflicts, feedback, consents, relations, records by id, care actions', async () => {
  const f = build();
  const { db } = f;
  // Two sources disagree on the city: the lower-priority offer becomes a conflict.
  const id = nationalId('11010119850101002');
  const first = `source_system,source_id,name,phones,national_id,city\nfinance,F1,陈静,13600136000,${id},上海\n`;
  const second = `source_system,source_id,name,phones,national_id,city\nweb,W1,陈静,13600136000,${id},杭州\n`;
  await db.importBuffer(first, 'customers_finance.csv');
  await db.importBuffer(second, 'customers_web.csv');
  const [chen] = db.customersByPhone('13600136000');
  assert.ok(db.lineage(chen).some((l) => l.field === 'city' && l.source.system === 'finance'));
  const open = db.conflicts();
  assert.ok(Array.isArray(open));
  if (open.length > 0) {
    const c = db.resolveConflict(open[0].id, 'reject', 'ops');
    assert.equal(c.status, 'rejected');
    assert.equal(db.conflicts().length, open.length - 1);
    assert.equal(db.conflicts(false).length, open.length);
  }
  assert.throws(() => db.resolveConflict(99999, 'accept', 'ops'), { code: 'not_found' });
  assert.throws(() => db.resolveConflict(1, 'maybe', 'ops'), RangeError);
  // A rejected row waits in its dealer's feedback queue.
  await db.importBuffer('source_system,source_id,name,phones\ndms,D9,王先生,13600136009\n', 'customers_dms.csv');
  // No dealer sent it: it waits in the unassigned queue, which feedback() without a dealer lists.
  assert.ok(db.feedback().some((e) => e.code === 'validation.name_placeholder'));
  assert.ok(db.feedback().every((e) => e.dealer === null));
  assert.ok(db.feedbackAll().length >= db.feedback().length);
  db.recordConsent(f.wang, { channel: 'wechat', granted: false, at: localTime(2025, 1, 1), source: 'app' });
  assert.deepEqual(db.consents(f.wang).map((c) => [c.channel, c.granted]), [['wechat', false]]);
  db.relate(f.wang, 'relative', f.li);
  assert.deepEqual(db.customer360(f.wang).relations, [{ from: f.wang, kind: 'relative', to: f.li }]);
  const lead = db.insertLead({ customer: f.li, origin: 'walk_in', model: 'ID.4', intent: 'A', received: localTime(2025, 5, 2, 10) });
  assert.equal(db.lead(lead).status, 'new');
  const complaint = db.insertComplaint({ customer: f.li, category: 'noise', received: localTime(2025, 5, 3, 11) });
  assert.equal(db.complaint(complaint).category, 'noise');
  const survey = db.insertSurvey({ customer: f.li, kind: 'sales', date: date(2025, 5, 4), items: { friendliness: 10 } });
  assert.equal(db.survey(survey).kind, 'sales');
  const due = await db.dueActions(date(2025, 1, 1), date(2026, 1, 1));
  assert.ok(due.every((a) => a.due instanceof Date && typeof a.kind === 'string'));
  const mine = await db.dueActions(date(2025, 1, 1), date(2026, 1, 1), f.d1);
  assert.ok(mine.length <= due.length);
});

test('batches name the failing record; tiers, expiry, deletes, segment names', () => {
  const f = build();
  const { db } = f;
  const ids = db.insertCustomers([{ name: '孙悟空' }, { name: '猪八戒', phones: ['13500135000'] }]);
  assert.equal(ids.length, 2);
  assert.throws(() => db.insertCustomers([{ name: '沙悟净' }, { name: '唐先生' }]), (e) => {
    assert.equal(e.code, 'validation.name_placeholder');
    assert.equal(e.record, 1);
    return true;
  });
  assert.throws(() => db.insertCustomers([{ name: '沙悟净' }, { kind: 'organisation', name: '花果山有限公司', gender: 'male' }]), { code: 'validation.not_allowed', record: 1, field: 'gender' });
  assert.throws(() => db.insertCustomers([{ name: '沙悟净' }, { name: 7 }]), (e) => e instanceof TypeError && /record 1/.test(e.message));
  assert.equal(db.customerCount(), 4); // the failed batches wrote nothing
  const tps = db.insertTouchpoints([
    { at: localTime(2025, 8, 1, 10), customer: f.li, channel: 'phone_out', kind: 'callback' },
    { at: localTime(2025, 8, 2, 10), customer: f.li, channel: 'sms', kind: 'enquiry' },
  ]);
  db.deleteTouchpoint(tps[0]);
  assert.throws(() => db.touchpoint(tps[0]), { code: 'not_found' });
  const expiry = db.expireLots(date(2030, 1, 1));
  assert.ok(expiry.lots >= 1);
  assert.ok(Array.isArray(db.reviewTiers(date(2025, 12, 31))));
  db.saveSegment('owners', 'vehicle_count >= 1');
  assert.deepEqual(db.segmentNames(), ['owners']);
});
