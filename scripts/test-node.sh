#!/usr/bin/env bash
# The Node package from a clean checkout: builds the native module (debug, with the machine's
# cargo) through `npm install`, runs its `node --test` suite (the README quick start included),
# the dealer-portal example's browser test (installs Debian's chromium if /usr/bin/chromium is
# missing), and installs the package from a temporary project outside the repository, as a user
# would. Needs Node >= 20 with npm and the Rust toolchain.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
# A debug build is enough for the tests and compiles much faster; a user's install builds
# release. Shared target directory: the portal and the temporary project reuse the build.
export AUTOCRM_NODE_PROFILE=debug
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target/node}"
npm_install() { npm install --no-audit --no-fund "$@"; }

echo "== node: npm install (builds the native module) and node --test"
(cd bindings/node && npm_install && node scripts/build.js --debug && npm test)

echo "== node: dealer portal in headless Chromium"
if [ ! -x /usr/bin/chromium ]; then
    sudo=""
    if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium
fi
(cd examples/dealer_portal && npm_install && npm test)

echo "== node: npm install <repo>/bindings/node from a project outside the repository"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# npm links a folder it installs: drop the module built above, so the install must build it.
rm -rf bindings/node/native
(
    cd "$tmp"
    npm init -y >/dev/null
    # npm >= 11 runs a dependency's install script only if the project allows it (the
    # portal's package.json does the same); older npm ignores the field.
    node -e "const f='package.json',p=require('./'+f);p.allowScripts={autocrm:true};require('fs').writeFileSync(f,JSON.stringify(p,null,2))"
    npm_install "$repo/bindings/node"
    node -e "
      const { Database, NotFoundError } = require('autocrm');
      const db = Database.inMemory();
      const id = db.insertCustomer({ name: '王小明', phones: ['13800138000'] });
      if (db.customer360(id).customer.name !== '王小明') process.exit(1);
      try { db.customer(id + 1); process.exit(1); } catch (e) { if (!(e instanceof NotFoundError)) throw e; }
      db.close();
      console.log('installed package works');
    "
)
test -f bindings/node/native/autocrm.node
