#!/usr/bin/env node
// Generates `native.d.ts`: the TypeScript declarations of the native module
// (native/autocrm.node) from the `#[napi]` items in src/. napi-derive writes one type-def record
// per item into the folder named by NAPI_TYPE_DEF_TMP_FOLDER while it expands the macros;
// @napi-rs/cli's `generateTypeDef` (the code behind `napi build --dts`) renders them. index.js
// and the hand-written index.d.ts are the public API over this module; native.d.ts is
// committed, and scripts/test-node.sh at the repository root fails when it drifts from src/.
//
//   npm run native-types                       rewrite native.d.ts
//   node scripts/native-types.js --out FILE    write FILE instead (the drift check)
//
// Maintainers only: @napi-rs/cli is a devDependency, so `npm install autocrm` (scripts/build.js,
// plain cargo) never needs it. It runs the debug build (`cargo build`, as `scripts/build.js
// --debug`) so a target directory that has one is reused: only this crate is compiled again,
// incrementally (a few seconds). CARGO_TARGET_DIR is honoured. (`cargo check` would expand the
// macros too, but after a build it has to check every dependency again.)
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const i = process.argv.indexOf('--out');
const out = i > 0 && process.argv[i + 1] ? path.resolve(process.argv[i + 1]) : path.join(root, 'native.d.ts');

const HEADER = `// The native module's declarations (native/autocrm.node), GENERATED from the #[napi] items in
// src/ by scripts/native-types.js: do not edit; run \`npm run native-types\` in bindings/node.
// Internal: the package's API is index.js, typed by the hand-written index.d.ts.

/* eslint-disable */

// Rust types the #[napi] signatures name that napi-derive does not declare.
/** A value built by src/value.rs (\`V\`): a plain object, array, string, number, boolean, Date, Buffer or null. */
type V = any
/** A large read result (src/value.rs \`Json\`): \`[value, dates]\` JSON text for index.js \`fromJson\`, or the value. */
type Json = string | V
/** An import's progress callback (src/lib.rs \`Progress\`). */
type Progress = (progress: { rows: number; bytes: number; totalBytes: number | null }) => void
type LakeReport = import('./index').LakeReport
type SyncReport = import('./index').SyncReport
type SyncServed = import('./index').SyncServed
type SyncRound = import('./index').SyncRound
`;

async function main() {
  const { generateTypeDef } = require('@napi-rs/cli');
  const defs = fs.mkdtempSync(path.join(os.tmpdir(), 'autocrm-typedef-'));
  try {
    const cargo = process.env.CARGO || 'cargo';
    const run = spawnSync(cargo, ['build', '--manifest-path', path.join(root, 'Cargo.toml'), '--locked'], {
      stdio: 'inherit',
      env: {
        ...process.env,
        NAPI_TYPE_DEF_TMP_FOLDER: defs,
        // napi-build reruns the build script when this changes, so the crate's macros expand
        // again (and write their records) even when nothing in src/ changed since the last check.
        NAPI_FORCE_BUILD_AUTOCRM_NODE: String(Date.now()),
      },
    });
    if (run.error) throw run.error;
    if (run.status !== 0) process.exit(run.status || 1);
    if (fs.readdirSync(defs).length === 0) {
      throw new Error('napi-derive wrote no type definitions (is its `type-def` feature off?)');
    }
    const { dts } = await generateTypeDef({ typeDefDir: defs, cwd: root, dtsHeader: HEADER });
    fs.writeFileSync(out, dts.endsWith('\n') ? dts : `${dts}\n`);
    console.log(`autocrm: wrote ${path.relative(process.cwd(), out) || out}`);
  } finally {
    fs.rmSync(defs, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`autocrm: native-types: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
