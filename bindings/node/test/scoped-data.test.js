// Scoped analytics, data stewardship, leads/complaints and postings under a scope: each call
// converts, calls core's ScopedStore and maps the error (the rules are core's, docs/access.md).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { tableFromIPC } = require('apache-arrow');
const { localTime, date } = require('..');
const { build, nationalId } = require('./fixture');

function denied(permission) {
  return (e) => {
    assert.equal(e.name, 'AccessDeniedError');
    assert.equal(e.code, 'access_denied');
    assert.equal(e.details.permission, permission);
    return true;
  };
}

/** Writes `text` to a fresh file named `name` (the import takes the kind from the name). */
function tmpFile(name, text) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autocrm-node-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

test('scoped analytics: saved segments, care actions, KPIs over several periods', async () => {
  const f = build();
  f.db.saveSegment('has_car', 'vehicle_count >= 1');
  const dealer = f.db.as('dealer:SH0001', 'alice');
  const seg = await dealer.evaluateSegment('has_car', date(2025, 12, 31));
  assert.deepEqual(seg, { size: 1, ids: [f.wang] }); // its own customers only
  const all = await f.db.as('hq:crm_analyst', 'ana').evaluateSegment('has_car', date(2025, 12, 31));
  assert.deepEqual(all.ids, [f.wang, f.li]);
  await assert.rejects(dealer.evaluateSegment('no_such_segment', date(2025, 12, 31)), { code: 'not_found' });

  const due = await dealer.dueActions(date(2025, 1, 1), date(2027, 1, 1));
  assert.ok(due.length > 0);
  assert.ok(due.every((a) => a.customer === f.wang && a.due instanceof Date));
  const tuned = await dealer.dueActions(date(2025, 1, 1), date(2027, 1, 1), { maintenanceMonths: 3, firstServiceKm: null });
  assert.ok(Array.isArray(tuned));
  await assert.rejects(dealer.dueActions(date(2025, 1, 1), date(2026, 1, 1), { bogus: 1 }), TypeError);

  const one = await dealer.kpi('after_sales_churn', '2025', 'dealer');
  const two = await dealer.kpi('after_sales_churn', ['2025-Q1', '2025-Q2'], 'dealer');
  assert.ok(one.length >= 1);
  const froms = new Set(two.map((r) => r.from.getTime()));
  assert.deepEqual([...froms].sort(), [date(2025, 1, 1).getTime(), date(2025, 4, 1).getTime()]);
  await assert.rejects(dealer.kpi('after_sales_churn', []), TypeError);
  await assert.rejects(dealer.kpi('after_sales_churn', ['2025', 'someday']), { code: 'validation.not_allowed' });

  const owner = f.db.as(`owner:${f.wang}`, 'app');
  await assert.rejects(owner.evaluateSegment('has_car', date(2025, 12, 31)), denied('analytics'));
  await assert.rejects(owner.dueActions(date(2025, 1, 1), date(2026, 1, 1)), denied('analytics'));
});

test('a dealer adds its own leads and complaints; not another dealer\'s', () => {
  const f = build();
  const s = f.db.as('dealer:SH0001', 'alice');
  const lead = s.addLead({ customer: f.wang, origin: 'walk_in', model: 'ID.4', intent: 'A', received: localTime(2025, 5, 2, 10) });
  assert.equal(f.db.lead(lead).dealer, f.d1); // stamped with the scope's dealer
  assert.throws(() => s.addLead({ customer: f.wang, origin: 'walk_in', model: 'ID.4', intent: 'B', received: localTime(2025, 5, 2), dealer: f.d2 }), { name: 'AccessDeniedError', code: 'access_denied' });
  assert.throws(() => s.addLead({ customer: f.li, origin: 'walk_in', model: 'ID.4', intent: 'B', received: localTime(2025, 5, 2) }), { code: 'not_found' });
  const c = s.addComplaint({ customer: f.wang, category: 'noise', received: localTime(2025, 5, 3, 11) });
  assert.equal(f.db.complaint(c).dealer, f.d1);
  assert.throws(() => s.addComplaint({ customer: f.wang, category: 'noise', received: localTime(2025, 5, 3), dealer: f.d2 }), { name: 'AccessDeniedError' });
  assert.throws(() => s.addLead({ customer: f.wang }), TypeError);
});

test('stewardship: scoped import, conflicts, feedback queues, quality report', async () => {
  const f = build();
  const admin = f.db.as('hq:data_admin', 'steward');
  const dealer = f.db.as('dealer:SH0001', 'alice');
  const id = nationalId('11010119850101002');
  const first = tmpFile('customers_finance.csv', `source_system,source_id,name,phones,national_id,city\nfinance,F1,陈静,13600136000,${id},上海\n`);
  const second = tmpFile('customers_web.csv', `source_system,source_id,name,phones,national_id,city\nweb,W1,陈静,13600136000,${id},杭州\n`);

  await assert.rejects(dealer.importFile(first), denied('manage_data'));
  const seen = [];
  const report = await admin.importFile(first, { progress: (p) => seen.push(p) });
  assert.equal(report.created, 1);
  await admin.importFile(second);
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(seen.length >= 1);
  assert.ok(admin.auditLog().some((e) => e.actor === 'steward' && e.what.startsWith('import ')));

  const [chen] = f.db.customersByPhone('13600136000');
  const open = admin.conflicts();
  assert.ok(Array.isArray(open));
  assert.deepEqual(admin.conflicts({ customer: chen }).map((c) => c.id), open.filter((c) => c.record === chen).map((c) => c.id));
  assert.ok(open.length >= 1, 'the web offer of another city is a conflict');
  const c = admin.resolveConflict(open[0].id, false);
  assert.equal(c.status, 'rejected');
  assert.equal(c.resolvedBy, 'steward'); // decided by the scope's actor
  assert.equal(admin.conflicts().length, open.length - 1);
  assert.equal(admin.conflicts({ openOnly: false }).length, open.length);
  assert.throws(() => admin.resolveConflict(99999, true), { code: 'not_found' });
  assert.throws(() => dealer.conflicts(), denied('manage_data'));
  assert.throws(() => dealer.resolveConflict(1, true), denied('manage_data'));
  assert.throws(() => admin.conflicts({ open: true }), TypeError);

  // A row SH0001 sent that was rejected waits in SH0001's queue.
  const bad = tmpFile('customers_dms.csv', 'source_system,source_id,dealer,name,phones\ndms,D9,SH0001,王先生,13600136009\n');
  await admin.importFile(bad);
  const mine = dealer.feedback();
  assert.ok(mine.length >= 1);
  assert.ok(mine.every((e) => e.dealer === f.d1));
  assert.ok(mine.some((e) => e.code === 'validation.name_placeholder'));
  assert.deepEqual(dealer.feedback(f.d1), mine);
  assert.throws(() => dealer.feedback(f.d2), denied('manage_data'));
  assert.deepEqual(admin.feedback(f.d1), mine);
  assert.ok(admin.feedback().length >= mine.length);

  const q = dealer.qualityReport(date(2025, 12, 31));
  assert.ok(q.asOf instanceof Date);
  assert.ok(q.rows.length >= 1 && q.rows.every((r) => r.dealer === f.d1)); // its own row only
  assert.equal(typeof q.network.customers, 'number');
  assert.ok(admin.qualityReport(date(2025, 12, 31)).rows.length >= 2);
  const owner = f.db.as(`owner:${f.wang}`, 'app');
  assert.throws(() => owner.qualityReport(date(2025, 12, 31)), denied('analytics'));
  assert.throws(() => owner.feedback(), denied('manage_data'));
});

test('stewardship: duplicate candidates and merges', () => {
  const f = build();
  // The same person entered twice (same name and mobile): a candidate pair.
  const twin = f.db.insertCustomer({ name: '王小明', phones: ['13800138000'], city: '上海' });
  const admin = f.db.as('hq:data_admin', 'steward');
  const pairs = admin.duplicates();
  const pair = pairs.find((p) => [p.customer, p.other].includes(twin));
  assert.ok(pair, 'the twin is a candidate');
  assert.ok(pair.score >= 70 && pair.reasons.includes('phone_and_name'));
  assert.ok(admin.duplicates({ customer: twin }).some((p) => p.other === f.wang));
  assert.deepEqual(admin.duplicates({ minScore: 100 }).filter((p) => p.score < 100), []);
  assert.throws(() => admin.duplicates({ minScore: 101 }), { name: 'ValidationError', code: 'validation.out_of_range' });
  assert.throws(() => admin.duplicates({ minScore: 300 }), RangeError);

  const dealer = f.db.as('dealer:SH0001', 'alice');
  assert.throws(() => dealer.duplicates(), denied('manage_data'));
  assert.throws(() => dealer.merge(f.wang, twin), denied('manage_data'));

  const m = admin.merge(f.wang, twin);
  assert.equal(m.survivor, f.wang);
  assert.equal(m.merged, twin);
  assert.equal(m.by, 'steward');
  assert.equal(m.mergedCustomer.name, '王小明');
  assert.equal(typeof m.counts.touchpoints, 'number');
  assert.ok(!admin.duplicates().some((p) => [p.customer, p.other].includes(twin)));
  assert.throws(() => admin.merge(f.wang, 99999), { code: 'not_found' });
});

test('scoped postings table: a dealer gets the postings made at it', async () => {
  const f = build();
  const dealer = f.db.as('dealer:SH0001', 'alice');
  const mine = tableFromIPC(await dealer.table('postings'));
  const all = tableFromIPC(await f.db.table('postings'));
  assert.ok(mine.numRows >= 1 && mine.numRows <= all.numRows);
  const other = tableFromIPC(await f.db.as('dealer:BJ0001', 'bob').table('postings', { customer: f.li }));
  assert.equal(other.numRows, 0); // Li is BJ0001's, but not a club member: no postings
  // Another dealer's customer: no row of his reaches this dealer (core filters, no error).
  assert.equal(tableFromIPC(await dealer.table('postings', { customer: f.li })).numRows, 0);
  const owner = f.db.as(`owner:${f.wang}`, 'app');
  await assert.rejects(owner.table('postings'), { name: 'AccessDeniedError' });
});
