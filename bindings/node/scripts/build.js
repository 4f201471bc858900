#!/usr/bin/env node
// Builds the native module from source with the machine's cargo and copies it to
// `native/autocrm.node`, where index.js loads it. Run by `npm install` (the `install` script):
// no prebuilt binary is downloaded, so it works offline and behind corporate proxies as long as
// cargo can reach its registry (or has the crates vendored).
//
//   node scripts/build.js            release build (what `npm install` does)
//   node scripts/build.js --debug    debug build (faster to compile; the repository's tests)
//
// CARGO_TARGET_DIR is honoured; AUTOCRM_NODE_PROFILE=debug has the effect of --debug.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const debug = process.argv.includes('--debug') || process.env.AUTOCRM_NODE_PROFILE === 'debug';
const profile = debug ? 'debug' : 'release';
const args = ['build', '--manifest-path', path.join(root, 'Cargo.toml'), '--locked'];
if (!debug) args.push('--release');

const cargo = process.env.CARGO || 'cargo';
const run = spawnSync(cargo, args, { stdio: 'inherit' });
if (run.error) {
  console.error(`autocrm: cannot run ${cargo} (${run.error.message}); install Rust (https://rustup.rs) and retry`);
  process.exit(1);
}
if (run.status !== 0) process.exit(run.status || 1);

const target = process.env.CARGO_TARGET_DIR
  ? path.resolve(process.env.CARGO_TARGET_DIR)
  : path.join(root, 'target');
const file = { linux: 'libautocrm_node.so', darwin: 'libautocrm_node.dylib', win32: 'autocrm_node.dll' }[process.platform]
  || 'libautocrm_node.so';
const built = path.join(target, profile, file);
const dest = path.join(root, 'native', 'autocrm.node');
fs.mkdirSync(path.dirname(dest), { recursive: true });
// Copy to a temporary name then rename: a running process that has the old module loaded keeps
// its mapping, and a reader never sees a half-written file.
const tmp = `${dest}.${process.pid}.tmp`;
fs.copyFileSync(built, tmp);
fs.renameSync(tmp, dest);
console.log(`autocrm: built ${path.relative(process.cwd(), dest) || dest} (${profile})`);
