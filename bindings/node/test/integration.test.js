// Records received from source systems, identity resolution, the club's remaining reads and
// the maintenance calls, unscoped: one success and one refusal each.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Database, date, localTime } = require('..');
const { build, vin, nationalId } = require('./fixture');

const ID = nationalId('11010119850512123');

test('upsertCustomer: created, replayed unchanged, a lower-priority offer becomes a conflict', () => {
  const { db, d1 } = build();
  assert.throws(
    () => db.upsertCustomer({ name: '赵六', phones: ['13600136000'], source: ['nope', '1'] }),
    { name: 'ValidationError', code: 'validation.unknown_source' },
  );
  db.registerSource('portal', 50);
  db.registerSource('crm', { contact: 10, profile: 10, identity: 10 });
  const rec = { name: '赵六', phones: ['13600136000'], nationalId: ID, province: '上海', city: '上海', dealer: d1 };
  const a = db.upsertCustomer({ ...rec, source: ['portal', 'c1'], receivedAt: localTime(2025, 1, 2, 9) });
  assert.deepEqual(Object.keys(a), ['id', 'outcome', 'conflicts', 'incomplete']);
  assert.equal(a.outcome, 'created');
  assert.equal(a.incomplete, false);
  assert.deepEqual(db.customer(a.id).source, { system: 'portal', recordId: 'c1' });
  const again = db.upsertCustomer({ ...rec, source: ['portal', 'c1'], receivedAt: localTime(2025, 1, 2, 9) });
  assert.deepEqual(again, { id: a.id, outcome: 'unchanged', conflicts: 0, incomplete: false });
  // Same national ID from a source ranked lower: matched, its other name is not applied.
  const b = db.upsertCustomer({ ...rec, name: '赵七', source: { system: 'crm', recordId: 'x9' }, receivedAt: localTime(2025, 1, 3, 9) });
  assert.equal(b.id, a.id);
  assert.equal(b.conflicts, 1);
  assert.equal(db.customer(a.id).name, '赵六');
  assert.equal(db.openConflictCount(), 1);
  const [c] = db.conflictsOf(a.id);
  assert.equal(c.field, 'name');
  assert.equal(c.offered, '赵七');
  assert.deepEqual(db.conflict(c.id), c);
  assert.throws(() => db.conflict(999), { name: 'NotFoundError' });
  assert.throws(() => db.conflictsOf(-1), TypeError);
  db.resolveConflict(c.id, 'reject', 'op');
  assert.equal(db.openConflictCount(), 0);
  assert.equal(db.conflictsOf(a.id)[0].status, 'rejected');
  assert.throws(() => db.upsertCustomer({ ...rec, source: ['portal', 'c2'], since: date(2025, 1, 1) }), TypeError);
  db.close();
});

test('upsertVehicle and lineageOfVehicle', () => {
  const { db, wang } = build();
  db.registerSource('portal', 50);
  const v = db.upsertVehicle({
    vin: vin(200001), brand: 'Volkswagen', model: 'Golf', purchaseDate: date(2024, 1, 1),
    owner: wang, source: ['portal', 'v1'], receivedAt: localTime(2024, 1, 5, 10),
  });
  assert.equal(v.outcome, 'created');
  assert.equal(db.vehicle(v.id).owners[0].customer, wang);
  const lineage = db.lineageOfVehicle(v.id);
  assert.ok(lineage.some((l) => l.field === 'model' && l.value === 'Golf'));
  assert.deepEqual(lineage[0].source, { system: 'portal', recordId: 'v1' });
  assert.deepEqual(lineage[0].at, localTime(2024, 1, 5, 10));
  assert.throws(
    () => db.upsertVehicle({ vin: vin(200002), brand: 'VW', model: 'Golf', owner: 9999, source: ['portal', 'v2'] }),
    { name: 'NotFoundError', code: 'not_found' },
  );
  assert.throws(() => db.upsertVehicle({ vin: vin(200003), brand: 'VW', model: 'Golf', source: ['portal', 'v3'] }), TypeError);
  db.close();
});

test('the source registry', () => {
  const db = Database.inMemory();
  const defaults = db.sources();
  assert.ok(defaults.length > 0);
  assert.deepEqual(Object.keys(defaults[0].priorities), ['identity', 'contact', 'profile', 'vehicle_spec', 'purchase_dates', 'service_dates']);
  db.setSources([{ name: 'dms', priorities: 40, verifies: true }, { name: 'web', priorities: { contact: 30 } }]);
  assert.deepEqual(db.sources().map((s) => s.name), ['dms', 'web']);
  assert.equal(db.sources()[0].verifies, true);
  assert.equal(db.sources()[1].priorities.contact, 30);
  assert.equal(db.sources()[1].priorities.identity, 0);
  db.setSourcePriority('web', 'identity', 5);
  assert.equal(db.sources()[1].priorities.identity, 5);
  assert.throws(() => db.setSourcePriority('nope', 'contact', 3), { name: 'ValidationError', code: 'validation.unknown_source' });
  assert.throws(() => db.setSourcePriority('web', 'colour', 3), RangeError);
  assert.throws(() => db.setSources([{ name: 'a' }, { name: 'a' }]), { name: 'ValidationError', code: 'validation.duplicate' });
  assert.throws(() => db.registerSource('x', 'high'), TypeError);
  db.close();
});

test('feedback: an incomplete record is queued, read back, cleared', () => {
  const { db, d1 } = build();
  db.registerSource('portal', 50);
  const u = db.upsertCustomer({ name: '赵六', phones: ['13600136000'], source: ['portal', 'c1'], dealer: d1 });
  assert.equal(u.incomplete, true);
  const e = db.feedbackEntry('customer', ['portal', 'c1']);
  assert.equal(e.code, 'validation.incomplete');
  assert.equal(e.dealer, d1);
  assert.deepEqual(e.source, { system: 'portal', recordId: 'c1' });
  assert.equal(db.feedbackEntry('customer', ['portal', 'other']), null);
  assert.deepEqual(db.rejectionCounts(), [{ dealer: d1, code: 'validation.incomplete', count: 1 }]);
  assert.equal(db.clearFeedback('customer', ['portal', 'c1']), true);
  assert.equal(db.clearFeedback('customer', ['portal', 'c1']), false);
  assert.equal(db.feedbackEntry('customer', ['portal', 'c1']), null);
  assert.throws(() => db.feedbackEntry('invoice', ['portal', 'c1']), { name: 'ImportError' });
  assert.throws(() => db.clearFeedback('customer', 'portal/c1'), TypeError);
  db.close();
});

test('identity: duplicates, merge, redirects', async () => {
  const { db, wang } = build();
  const twin = db.insertCustomer({ name: '王小明', phones: ['13800138000'] });
  const all = await db.duplicateCandidates();
  assert.ok(all.some((c) => c.customer === wang && c.other === twin && c.score >= 70), JSON.stringify(all));
  assert.deepEqual(await db.duplicateCandidates(100), all.filter((c) => c.score >= 100));
  await assert.rejects(db.duplicateCandidates(300), RangeError);
  // Scores are 0–100: a higher minimum could only list nothing, so core refuses it.
  await assert.rejects(db.duplicateCandidates(101), { name: 'ValidationError', code: 'validation.out_of_range' });
  const mine = db.duplicatesOf(twin);
  assert.equal(mine[0].other === wang || mine[0].customer === wang, true);
  assert.throws(() => db.mergeCustomers(wang, wang, 'op'), { name: 'InvalidOperationError', code: 'invalid_operation.merge_with_itself' });
  const m = db.mergeCustomers(wang, twin, 'op', localTime(2025, 6, 1, 12));
  assert.equal(m.survivor, wang);
  assert.equal(m.merged, twin);
  assert.deepEqual(m.at, localTime(2025, 6, 1, 12));
  assert.equal(m.by, 'op');
  assert.equal(db.resolveCustomer(twin), wang);
  assert.equal(db.resolveCustomer(wang), wang);
  assert.deepEqual(db.mergesOf(wang).map((r) => r.merged), [twin]);
  assert.deepEqual(db.mergesOf(twin), []);
  assert.throws(() => db.resolveCustomer(9999), { name: 'NotFoundError' });
  db.close();
});

test('loyalty: configuration read-back, spendable, posting, benefits', () => {
  const db = Database.inMemory();
  assert.equal(db.loyaltyConfig(), null);
  db.close();
  const f = build();
  const cfg = f.db.loyaltyConfig();
  assert.equal(cfg.lotDays, 730);
  assert.ok(cfg.rules.every((r) => typeof r.name === 'string' && ('points' in r || 'pointsPerYuan' in r)));
  // Read back in the shape setLoyaltyConfig takes: it round-trips.
  f.db.setLoyaltyConfig({ ...cfg, lotDays: 365 });
  assert.deepEqual(f.db.loyaltyConfig(), { ...cfg, lotDays: 365 });
  assert.throws(() => f.db.setLoyaltyConfig({ ...cfg, lotDays: 0 }), { name: 'ValidationError' });
  const spend = f.db.spendable(f.wang, date(2025, 6, 1));
  assert.equal(spend, f.db.balance(f.wang).points);
  assert.ok(spend > 0);
  assert.equal(f.db.spendable(f.wang, date(2025, 6, 1), f.d1), f.db.balance(f.wang, f.d1).points);
  assert.throws(() => f.db.spendable(f.wang, date(2025, 6, 1), 'gold'), TypeError);
  const [p] = f.db.postingsOf(f.wang);
  assert.deepEqual(f.db.posting(p.id), p);
  assert.throws(() => f.db.posting(99999), { name: 'NotFoundError' });
  assert.deepEqual(Object.keys(f.db.benefits(f.wang, date(2025, 6, 1))), ['labourDiscountPct', 'partsDiscountPct', 'rescueDiscountPct', 'priority']);
  assert.throws(() => f.db.benefits(f.wang, '2025-13-01'), RangeError);
  f.db.close();
});

test('loyalty: tier floors and history, settlement', () => {
  const { db, wang, d1, d2 } = build();
  assert.throws(
    () => db.setTierFloor(wang, { tier: 'gold', from: date(2025, 1, 1), until: date(2024, 1, 1), operator: 'op', reason: 'vip' }),
    { name: 'ValidationError', code: 'validation.date_order' },
  );
  assert.throws(() => db.setTierFloor(9999, { tier: 'gold', from: date(2025, 1, 1), operator: 'op', reason: 'vip' }), { name: 'NotFoundError' });
  assert.equal(db.tierStatus(wang, date(2025, 6, 1)).floorTier, null);
  db.setTierFloor(wang, { tier: 'gold', from: date(2025, 1, 1), operator: 'op', reason: 'vip' });
  assert.equal(db.tierStatus(wang, date(2025, 6, 1)).floorTier, 'gold');
  assert.deepEqual(db.tierHistory(wang), []);
  db.reviewTiers(date(2025, 6, 1));
  assert.deepEqual(db.tierHistory(wang), [{ on: date(2025, 6, 1), from: 'normal', to: 'gold', why: 'floor' }]);
  assert.equal(db.benefits(wang, date(2025, 6, 1)).priority, true);
  assert.throws(() => db.tierHistory(-1), TypeError);
  // Points earned at d1 (the brand wallet's lots) spent at d2: d1 owes d2.
  db.redeem({ customer: wang, points: 100, at: localTime(2025, 5, 1, 10), item: 'wash', key: 'k1', dealer: d2 });
  assert.deepEqual(db.settlement(date(2025, 1, 1), date(2026, 1, 1)), [{ debtor: d1, creditor: d2, points: 100, amount: 1 }]);
  assert.deepEqual(db.settlement(date(2025, 6, 1), date(2026, 1, 1)), []);
  assert.throws(() => db.settlement('2025-01-01', 'soon'), RangeError);
  db.close();
});

test('parseRule, unrelate, relationsOf, homeDealer', async () => {
  const { db, wang, li, d1, d2 } = build();
  db.parseRule('vehicle_count >= 1 and city = "上海"');
  assert.throws(() => db.parseRule('vehicle_count >>'), (e) => e.name === 'RuleError' && e.code === 'rule.syntax' && e.details.column > 0);
  db.relate(wang, 'relative', li);
  assert.deepEqual(db.relationsOf(wang), [{ from: wang, kind: 'relative', to: li }]);
  assert.deepEqual(db.relationsOf(li), [{ from: wang, kind: 'relative', to: li }]);
  assert.equal(db.unrelate(wang, 'relative', li), true);
  assert.equal(db.unrelate(wang, 'relative', li), false);
  assert.deepEqual(db.relationsOf(wang), []);
  assert.throws(() => db.unrelate(wang, 'cousin', li), RangeError);
  assert.equal(await db.homeDealer(wang, date(2025, 6, 1)), d1);
  assert.equal(await db.homeDealer(li, date(2025, 6, 1)), d2);
  await assert.rejects(db.homeDealer(9999, date(2025, 6, 1)), { name: 'NotFoundError' });
  db.close();
});

test('erasure register, compact and vacuum', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autocrm-node-'));
  const file = path.join(dir, 'crm.redb');
  const { db, wang, li } = build(Database.open(file, { durable: false }));
  assert.equal(db.erasure(li), null);
  db.eraseCustomer(li, 'op', 'PIPL art. 47 request');
  const e = db.erasure(li);
  assert.equal(e.customer, li);
  assert.equal(e.reason, 'PIPL art. 47 request');
  assert.deepEqual(db.erasures(), [e]);
  assert.throws(() => db.erasure('x'), TypeError);
  // A transaction still open: compacting is refused.
  await assert.rejects(db.read(() => db.compact()), { name: 'InvalidOperationError', code: 'invalid_operation.database_shared' });
  assert.equal(typeof (await db.compact()), 'boolean');
  // The file must not be open.
  await assert.rejects(Database.vacuum(file), { name: 'AlreadyOpenError', code: 'already_open' });
  db.close();
  assert.equal(await Database.vacuum(file), undefined);
  const again = Database.open(file);
  assert.equal(again.customer(wang).name, '王小明');
  assert.deepEqual(again.erasures().map((x) => x.customer), [li]);
  again.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the 360 view and timeline pages (handed over as JSON) keep text, numbers and dates exact', () => {
  const { db, wang, v1, d1, t1 } = build();
  const note = 'said "fine" \\ ok\ttab — 好的 🚗 é\u2028x';
  const ids = [];
  for (let i = 0; i < 3; i++) {
    ids.push(db.insertTouchpoint({
      at: localTime(2025, 5, 1 + i, 8, 15, 30), customer: wang, vehicle: v1, dealer: d1, channel: 'phone_out',
      kind: 'callback', note, amount: '0.10', mileageKm: 2 ** 31,
    }));
  }
  const view = db.customer360(wang, 2);
  const first = view.timeline.items[0];
  assert.deepEqual(first, db.touchpoint(ids[2]));
  assert.equal(first.note, note);
  assert.equal(first.amount, 0.1);
  assert.ok(first.at instanceof Date);
  assert.deepEqual(view.timeline.next, { at: localTime(2025, 5, 2, 8, 15, 30), id: ids[1] });
  assert.ok(view.timeline.next.at instanceof Date);
  assert.deepEqual(view.customer, db.customer(wang));
  assert.deepEqual(view.currentVehicles[0], db.vehicle(v1));
  const page = db.timeline(wang, 2, view.timeline.next);
  assert.deepEqual(page.items.map((t) => t.id), [ids[0], t1]);
  assert.equal(page.next, null);
  assert.deepEqual(db.read((r) => r.timeline(wang, 5)), db.timeline(wang, 5));
  const scoped = db.as('hq:data_admin', 'qa').customer360(wang, 2);
  assert.deepEqual(scoped.timeline, view.timeline);
  db.close();
});
