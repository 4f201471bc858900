// The owner app's calls on the scoped handle (core/src/api/owner.rs): each answers for the
// owner of an owner scope only; a redemption or referral retried with the same key counts once.
// Dates are relative to the database's today, so the car's reminders are always due.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { build, vin } = require('./fixture');

const DAY = 86_400_000;

/** The fixture plus, relative to today: a car of Wang's with dates ahead, 500 points. */
function club() {
  const f = build();
  const now = f.db.now();
  const today = new Date(Math.floor(now.getTime() / DAY) * DAY);
  const days = (n) => new Date(today.getTime() + n * DAY);
  const car = f.db.insertVehicle({
    vin: vin(183296), brand: 'Volkswagen', model: 'ID.4', purchaseDate: days(-330),
    warrantyEnd: days(75), insuranceExpiry: days(40), inspectionDue: days(50), sellingDealer: f.d1, owner: f.wang,
  });
  f.db.adjust({ customer: f.wang, points: 500, at: new Date(now.getTime() - DAY), operator: 'ops', reason: 'welcome', key: 'w-me' });
  return { ...f, now, days, car };
}

test('an owner reads his club data', () => {
  const f = club();
  const me = f.db.as(`owner:${f.wang}`, 'app-1');
  const p = me.myProfile();
  assert.equal(p.id, f.wang);
  assert.ok(p.masked.includes('nationalId'));
  assert.match(p.customer.nationalId, /\*/);
  const cars = me.myVehicles();
  assert.deepEqual(cars.map((c) => c.model).sort(), ['ID.4', 'Passat']);
  assert.deepEqual(cars.find((c) => c.id === f.car).inspectionDue, f.days(50));
  assert.ok(cars.every((c) => c.owners.every((o) => o.customer === f.wang)));
  const page = me.myHistory(5);
  assert.ok(page.items.length >= 1 && page.items.every((t) => t.customer === f.wang));
  const brand = me.myPoints(800).find((w) => w.wallet === 'brand');
  assert.ok(brand.balance.points >= 500 && brand.spendable >= 500);
  assert.ok(brand.expiring.length >= 1 && brand.expiring.every((l) => l.expires instanceof Date));
  assert.deepEqual(me.myPoints(0).flatMap((w) => w.expiring), []);
  const t = me.myTier();
  assert.equal(typeof t.status.tier, 'string');
  assert.ok(t.next === null || typeof t.next.tier === 'string');
  assert.equal(typeof me.myBenefits().labourDiscountPct, 'number');
  const kinds = new Set(me.myReminders().map((r) => r.kind));
  assert.ok(kinds.has('annual_inspection') && kinds.has('warranty_expiry'));
  assert.ok(!kinds.has('insurance_renewal')); // marketing: only with a consent
  const consents = me.myConsents();
  assert.equal(consents.sms, false);
  for (const ch of Object.keys(consents)) me.setMyConsent(ch, true);
  assert.ok(me.myReminders(90).some((r) => r.kind === 'insurance_renewal'));
  me.setMyConsent('sms', false);
  assert.equal(me.myConsents().sms, false);
  assert.throws(() => me.myReminders(10_000), { name: 'ValidationError' });
  assert.throws(() => me.setMyConsent('pigeon', true), RangeError);
});

test('redeemMine spends once per key; a referral makes one lead', () => {
  const f = club();
  const me = f.db.as(`owner:${f.wang}`, 'app-1');
  const before = f.db.balance(f.wang).points;
  const at = new Date(f.now.getTime() - 60_000);
  const r = { points: 200, item: 'car wash', key: 'phone-1', at };
  const pid = me.redeemMine(r);
  assert.equal(me.redeemMine(r), pid);
  assert.equal(f.db.balance(f.wang).points, before - 200);
  assert.throws(() => me.redeemMine({ ...r, points: 300 }), { name: 'IdempotencyConflictError' });
  assert.throws(() => me.redeemMine({ ...r, points: 1e6, key: 'phone-2' }), { name: 'InsufficientPointsError' });
  assert.throws(() => me.redeemMine({ points: 1, item: 'x', key: 'k' }), TypeError); // no `at`
  const ref = { name: '赵六', phone: '13700002222', dealer: 'SH0001', model: 'ID.4', key: 'ref-1' };
  const lead = me.referFriend(ref);
  assert.equal(me.referFriend(ref), lead);
  assert.equal(f.db.lead(lead).origin, 'referral');
  assert.equal(f.db.lead(lead).model, 'ID.4');
  assert.throws(() => me.referFriend({ ...ref, dealer: 'NOPE', key: 'ref-2' }), { name: 'NotFoundError' });
});

test('other scopes are refused the owner calls; another owner sees his own', () => {
  const f = club();
  for (const scope of ['hq:data_admin', 'dealer:SH0001']) {
    const s = f.db.as(scope, 'x');
    const calls = [
      () => s.myProfile(), () => s.myVehicles(), () => s.myHistory(), () => s.myPoints(),
      () => s.myTier(), () => s.myBenefits(), () => s.myReminders(), () => s.myConsents(),
      () => s.setMyConsent('sms', true),
      () => s.redeemMine({ points: 1, item: 'x', key: 'k', at: f.now }),
      () => s.referFriend({ name: '赵六', phone: '13700002222', dealer: 'SH0001', model: 'ID.4', key: 'k' }),
    ];
    for (const call of calls) assert.throws(call, { name: 'AccessDeniedError', code: 'access_denied' });
  }
  const li = f.db.as(`owner:${f.li}`, 'app-2');
  assert.equal(li.myProfile().id, f.li);
  assert.deepEqual(li.myVehicles().map((c) => c.model), ['Tiguan']);
  assert.throws(() => li.customer360(f.wang), { code: 'not_found' });
});
