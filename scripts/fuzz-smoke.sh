#!/usr/bin/env bash
# Fuzz smoke run: every cargo-fuzz target for 30 s from its seed corpus (cargo-fuzz on stable via
# RUSTC_BOOTSTRAP). Installs cargo-fuzz if it is missing. Part of scripts/test-all.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
for target in decode_record parse_rule import sync_batch; do
    corpus=$(mktemp -d)
    cp fuzz/seeds/"$target"/* "$corpus"/
    (cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "$corpus" -- -max_total_time=30)
    rm -rf "$corpus"
done
