// Replicas that sync with HQ: a dealer's file kept in step with HQ's by Buffers, refusals by
// code, whole round trips with syncWith.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Database, localTime } = require('..');

function visit(tx, customer, dealer, minute) {
  return tx.insertTouchpoint({
    at: localTime(2025, 1, 1, 8, minute), customer, channel: 'showroom', kind: 'service_visit',
    serviceKind: 'maintenance', dealer,
  });
}

/** HQ with dealers SH001 and BJ002: 王 visited SH001, 李 BJ002, 张 both. */
function hq(file) {
  const db = file ? Database.open(file) : Database.inMemory();
  const ids = db.write((tx) => {
    const sh = tx.insertDealer({ code: 'SH001', name: '上海一店', region: 'East', province: '上海', city: '上海' });
    const bj = tx.insertDealer({ code: 'BJ002', name: '北京二店', region: 'North', province: '北京', city: '北京' });
    const wang = tx.insertCustomer({ name: '王小明', phones: ['13800000001'] });
    const li = tx.insertCustomer({ name: '李建国', phones: ['13800000002'] });
    const zhang = tx.insertCustomer({ name: '张丽华', phones: ['13800000003'] });
    visit(tx, wang, sh, 1);
    visit(tx, li, bj, 2);
    visit(tx, zhang, sh, 3);
    visit(tx, zhang, bj, 4);
    return { sh, bj, wang, li, zhang };
  });
  return { db, ids };
}

function phones(db) {
  return new Set(db.customerIds().flatMap((id) => db.customer(id).phones));
}

test('a dealer replica round trip through Buffers', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'autocrm-sync-'));
  try {
    const { db: central, ids } = hq(path.join(dir, 'hq.redb'));
    central.registerReplica('sh001', 'dealer:SH001');
    const rep = Database.open(path.join(dir, 'sh001.redb'));
    rep.initReplica('sh001', 'dealer:SH001');
    assert.deepEqual(rep.syncStatus(), { name: 'sh001', scope: 'dealer:SH001', pending: 0, pendingSensitive: 0, copied: false, position: 0 });

    const up = rep.syncPush();
    assert.ok(Buffer.isBuffer(up) && up.length > 0);
    const { batch, report: served } = await central.syncServe(up);
    assert.ok(Buffer.isBuffer(batch));
    assert.deepEqual(served.rejected, []);
    const pulled = await rep.syncPull(batch);
    assert.equal(pulled.customers, 2);
    assert.equal(pulled.touchpoints, 2);
    assert.equal(pulled.alreadyApplied, false);
    assert.equal(pulled.more, false);
    assert.equal((await rep.syncPull(batch)).alreadyApplied, true);
    assert.deepEqual(phones(rep), new Set(['13800000001', '13800000003']));
    assert.equal(rep.syncStatus().copied, true);

    // A visit written on the replica reaches HQ once.
    const [wangHere] = rep.customersByPhone('13800000001');
    rep.write((tx) => visit(tx, wangHere, rep.dealerByCode('SH001'), 10));
    assert.ok(rep.syncStatus().pending >= 1);
    const again = rep.syncPush();
    const first = await central.syncServe(again);
    assert.equal(first.report.touchpoints, 1);
    await central.syncServe(again);
    await rep.syncPull(first.batch);
    assert.equal(rep.syncStatus().pending, 0);
    assert.equal(central.touchpointCount(), 5);
    assert.equal(central.timeline(ids.wang).items.length, 2);

    const [state] = central.replicas();
    assert.equal(state.name, 'sh001');
    assert.equal(state.scope, 'dealer:SH001');
    assert.ok(state.syncs >= 2 && state.applied >= 1);
    rep.close();
    central.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('refusals keep core codes', async () => {
  const { db: central } = hq();
  const plain = Database.inMemory();
  assert.throws(() => plain.syncPush(), { name: 'InvalidOperationError', code: 'invalid_operation.not_a_replica' });
  assert.throws(() => plain.syncStatus(), { code: 'invalid_operation.not_a_replica' });
  await assert.rejects(central.syncServe(Buffer.from('not a batch')), { name: 'InvalidOperationError', code: 'invalid_operation.sync_batch_unreadable' });
  plain.initReplica('sh001', 'dealer:SH001');
  await assert.rejects(plain.syncPull(Buffer.from([0, 1, 2, 255])), { code: 'invalid_operation.sync_batch_unreadable' });
  await assert.rejects(plain.syncPull(plain.syncPush()), { code: 'invalid_operation.sync_batch_mismatch' });
  await assert.rejects(central.syncServe(plain.syncPush()), { name: 'NotFoundError' });
  assert.throws(() => central.registerReplica('all', 'hq:analyst'), { code: 'invalid_operation.replica_scope' });
  assert.throws(() => central.initReplica('x', 'dealer:SH001'), { code: 'invalid_operation.replica_not_empty' });
  assert.throws(() => central.registerReplica('zz', 'dealer:ZZ999'), { name: 'UnknownScopeError' });
  await assert.rejects(plain.syncPull('text'), TypeError);
  await assert.rejects(plain.syncWith('hq'), TypeError);
});

test('syncWith runs whole round trips', async () => {
  const { db: central, ids } = hq();
  central.registerReplica('phone-1', `owner:${ids.wang}`);
  const phone = Database.inMemory();
  phone.initReplica('phone-1', `owner:${ids.wang}`);
  const { served, pulled } = await phone.syncWith(central);
  assert.deepEqual(served.rejected, []);
  assert.equal(pulled.customers, 1);
  assert.equal(pulled.more, false);
  assert.deepEqual(phones(phone), new Set(['13800000001']));
  const second = await phone.syncWith(central, 1);
  assert.equal(second.pulled.customers, 0);
  assert.deepEqual(central.replicas().map((r) => r.name), ['phone-1']);
});
