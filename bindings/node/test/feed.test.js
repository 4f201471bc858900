// The change feed: consumers, pages, retention, the transaction's actor and source, errors.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { Database } = require('..');

test('the feed records each change once a consumer registers', () => {
  const db = Database.inMemory();
  db.insertCustomer({ name: '王小明' });
  assert.equal(db.changeFeedEnabled(), false);
  assert.deepEqual(db.changes().changes, []);
  assert.equal(db.registerConsumer('portal-cache'), 0);
  const id = db.insertCustomer({ name: '李小红', phones: ['13812345678'] });
  db.write((tx) => {
    tx.setActor('web', 'dealer:SH001');
    tx.setSource('portal');
    tx.updateCustomer(id, { name: '李晓红', phones: ['13812345678'] });
  });
  const page = db.changes(0, 10);
  assert.equal(page.next, 2);
  assert.equal(page.last, 2);
  assert.deepEqual(
    page.changes.map((c) => [c.commit, c.entity, c.op, c.key, c.customer]),
    [[1, 'customer', 'insert', { id }, id], [2, 'customer', 'update', { id }, id]],
  );
  const [first, second] = page.changes;
  assert.equal(first.actor, null);
  assert.deepEqual([second.actor, second.scope, second.source], ['web', 'dealer:SH001', 'portal']);
  assert.ok(second.at instanceof Date);
});

test('positions, pruning and retention', () => {
  const db = Database.inMemory();
  db.registerConsumer('a');
  db.registerConsumer('b');
  for (let i = 0; i < 4; i++) db.insertCustomer({ name: `王小明${i}` });
  assert.deepEqual(db.changes(0, 3).changes.map((c) => c.id), [1, 2, 3]);
  assert.equal(db.acknowledge('a', 3), 3);
  assert.equal(db.acknowledge('a', 1), 3);
  db.acknowledge('b', 1);
  assert.equal(db.pruneChanges(), 1);
  assert.deepEqual(db.consumers(), [{ name: 'a', position: 3 }, { name: 'b', position: 1 }]);
  assert.throws(() => db.changes(0), { name: 'InvalidOperationError', code: 'invalid_operation.changes_pruned' });
  assert.throws(() => db.acknowledge('a', 99), { code: 'invalid_operation.change_position_ahead' });
  assert.throws(() => db.consumerPosition('nobody'), { name: 'NotFoundError' });
  assert.equal(db.changeRetention(), 'until_consumed');
  db.setChangeRetention(14);
  assert.equal(db.changeRetention(), 14);
  db.setChangeRetention('forever');
  assert.equal(db.changeRetention(), 'forever');
  db.setChangeRetention('untilConsumed');
  assert.equal(db.changeRetention(), 'until_consumed');
  assert.throws(() => db.setChangeRetention(0), { name: 'ValidationError' });
  assert.throws(() => db.setChangeRetention('weekly'), { name: 'ValidationError' });
  assert.throws(() => db.setChangeRetention(-1), TypeError);
  assert.equal(db.unregisterConsumer('b'), true);
  db.disableChangeFeed();
  assert.equal(db.changeFeedEnabled(), false);
});

test('a dealer reads only the changes it may see', () => {
  const db = Database.inMemory();
  const dealer = (code) => db.insertDealer({ code, name: `${code} 4S`, region: 'East', province: '上海', city: '上海' });
  const d1 = dealer('SH001');
  const d2 = dealer('SH002');
  const mine = db.insertCustomer({ name: '王小明' });
  const other = db.insertCustomer({ name: '李小红' });
  for (const [c, d] of [[mine, d1], [other, d2]]) {
    db.insertTouchpoint({ customer: c, dealer: d, at: '2024-03-01T09:00:00', channel: 'showroom', kind: 'service_visit', serviceKind: 'maintenance' });
  }
  db.registerConsumer('x');
  db.updateCustomer(mine, { name: '王晓明' });
  db.updateCustomer(other, { name: '李晓红' });
  const page = db.as('dealer:SH001', 'li').changes();
  assert.equal(page.next, 2);
  assert.deepEqual(page.changes.map((c) => [c.entity, c.customer]), [['customer', mine]]);
  assert.throws(() => db.as('hq:call_centre', 'cc').changes(), { name: 'AccessDeniedError' });
});
