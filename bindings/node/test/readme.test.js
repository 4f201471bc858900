// The README's quick start, run as written (its `require('autocrm')` resolved to this package).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

test('README quick start runs', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const m = readme.match(/## Quick start\s+```js\n([\s\S]*?)```/);
  assert.ok(m, 'the README has a js block under "Quick start"');
  const pkg = JSON.stringify(path.join(__dirname, '..'));
  const code = m[1].replace(/require\('autocrm'\)/g, `require(${pkg})`);
  const run = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 120000 });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /dealers; \d+ owners/);
});

test('index.d.ts names every public method', () => {
  const dts = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8');
  const autocrm = require('..');
  const db = autocrm.Database.inMemory();
  const protos = [
    autocrm.Database.prototype, autocrm.WriteTransaction.prototype,
    autocrm.ReadTransaction.prototype, autocrm.ScopedDatabase.prototype,
  ];
  for (const p of protos) {
    for (const name of Object.getOwnPropertyNames(p)) {
      if (name === 'constructor') continue;
      assert.match(dts, new RegExp(`\\b${name}\\b`), `${name} is typed in index.d.ts`);
    }
  }
  for (const name of Object.keys(autocrm)) {
    if (name.startsWith('_')) continue;
    assert.match(dts, new RegExp(`export (class|function|interface) ${name}\\b`), `${name} is exported in index.d.ts`);
  }
  db.close();
});
