#!/usr/bin/env bash
# Builds the owner-app library (release: what a phone ships) and generates its Kotlin and Swift
# bindings from it in UniFFI library mode, into OUT_DIR (default: bindings/mobile/generated, the
# committed copy). scripts/test-mobile.sh generates into a temporary folder and diffs the two.
# The generator is this crate's own `uniffi-bindgen` binary (same UniFFI version as the library).
set -euo pipefail
cd "$(dirname "$0")"
out="${1:-generated}"
target="${CARGO_TARGET_DIR:-target}"
cargo build --quiet --release --lib
case "$(uname -s)" in
    Darwin) lib="$target/release/libautocrm_mobile.dylib" ;;
    *) lib="$target/release/libautocrm_mobile.so" ;;
esac
cargo build --quiet --features bindgen --bin uniffi-bindgen
bindgen="$target/debug/uniffi-bindgen"
rm -rf "$out/kotlin" "$out/swift"
# --no-format: the output must not depend on whether ktlint or swiftformat is installed.
"$bindgen" generate --library "$lib" --language kotlin --out-dir "$out/kotlin" --no-format
"$bindgen" generate --library "$lib" --language swift --out-dir "$out/swift" --no-format
echo "generated Kotlin and Swift from $lib into $out"
