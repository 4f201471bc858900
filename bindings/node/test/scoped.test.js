// Scopes: dealer, owner and HQ handles over ScopedStore — filtered, masked, audited.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { tableFromIPC } = require('apache-arrow');
const { localTime, date } = require('..');
const { build } = require('./fixture');

test('a dealer sees its own customers only; another dealer\'s is not_found', () => {
  const f = build();
  const s = f.db.as('dealer:SH0001', 'alice@sh0001', { purpose: 'service reminder' });
  assert.equal(s.scope, 'dealer:SH0001');
  assert.deepEqual(s.find('沪A12345'), [f.wang]);
  assert.deepEqual(s.find('京B67890'), []); // a miss and another dealer's customer look alike
  assert.throws(() => s.customer360(f.li), { name: 'NotFoundError', code: 'not_found' });
  assert.throws(() => s.timeline(f.li), { name: 'NotFoundError' });
  const view = s.customer360(f.wang);
  assert.ok(view.masked.includes('nationalId'));
  assert.match(view.customer.nationalId, /\*/);
  assert.equal(view.lineage.length, 0);
  assert.equal(s.timeline(f.wang).items.length, 1);
});

test('a dealer posts its own visits and redeems at itself; not for another dealer', () => {
  const f = build();
  const s = f.db.as('dealer:SH0001', 'alice');
  const id = s.addTouchpoint({
    at: localTime(2025, 7, 1, 14), customer: f.wang, vehicle: f.v1, channel: 'showroom',
    kind: 'service_visit', serviceKind: 'repair', partsAmount: 100,
  });
  assert.equal(f.db.touchpoint(id).dealer, f.d1); // stamped with the scope's dealer
  assert.throws(() => s.addTouchpoint({ at: localTime(2025, 7, 1), customer: f.wang, channel: 'sms', kind: 'callback', dealer: f.d2 }), { name: 'AccessDeniedError', code: 'access_denied' });
  assert.throws(() => s.addTouchpoint({ at: localTime(2025, 7, 1), customer: f.li, channel: 'sms', kind: 'callback' }), { code: 'not_found' });
  const r = { customer: f.wang, points: 100, at: localTime(2025, 7, 2), item: 'oil change', key: 'portal-1' };
  assert.equal(s.redeem(r), s.redeem(r));
  assert.equal(f.db.balance(f.wang).points, 1000); // 1000 + 100 earned - 100 redeemed
  s.recordConsent(f.wang, 'sms', true);
  assert.throws(() => s.erase(f.wang, 'request'), { name: 'AccessDeniedError' });
  assert.throws(() => s.verifyAudit(), { name: 'AccessDeniedError' });
});

test('an owner sees himself only and changes his contact details', () => {
  const f = build();
  const me = f.db.as(`owner:${f.wang}`, 'app-install-1');
  assert.equal(me.customer360(f.wang).customer.name, '王小明');
  assert.throws(() => me.customer360(f.li), { code: 'not_found' });
  me.updateMyContact({ city: '苏州', province: '江苏' });
  assert.equal(f.db.customer(f.wang).city, '苏州');
  const dealer = f.db.as('dealer:SH0001', 'alice');
  assert.throws(() => dealer.updateMyContact({ city: 'x' }), { name: 'AccessDeniedError' });
});

test('HQ: audit trail, erasure, scoped analytics and exports', async () => {
  const f = build();
  const dealer = f.db.as('dealer:SH0001', 'alice');
  dealer.customer360(f.wang);
  const admin = f.db.as('hq:data_admin', 'dpo');
  const log = admin.auditLog(f.wang);
  assert.ok(log.some((e) => e.actor === 'alice' && e.action === 'view'));
  const head = admin.auditHead();
  assert.equal(head.hash.length, 64);
  assert.equal(admin.verifyAudit().ok, true);
  const e = admin.erase(f.li, 'PIPL request 42');
  assert.equal(e.customer, f.li);
  assert.equal(admin.verifyAudit().ok, true);

  const rows = await dealer.kpi('after_sales_churn', '2025', 'dealer');
  assert.ok(rows.every((r) => r.kpi === 'after_sales_churn' && r.from instanceof Date));
  const seg = await dealer.evaluate('vehicle_count >= 1', date(2025, 12, 31));
  assert.deepEqual(seg.ids, [f.wang]); // the dealer's own customers only
  assert.equal(await dealer.segmentCount('vehicle_count >= 1', date(2025, 12, 31)), 1);
  const table = tableFromIPC(await dealer.table('customers'));
  assert.equal(table.numRows, 1);
  const tps = tableFromIPC(await dealer.table('touchpoints'));
  assert.equal(tps.numRows, 1);
  await assert.rejects(dealer.table('postings'), RangeError);
  const owner = f.db.as(`owner:${f.wang}`, 'app');
  await assert.rejects(owner.kpi('after_sales_churn', '2025'), { name: 'AccessDeniedError' });
});
