//! Feeds arbitrary bytes to the bulk importer as CSV and as JSON Lines of every record kind;
//! the checks are in `fuzz/checks/import.rs`, which `core/tests/fuzz_replay.rs` runs on
//! `seeds/import/` in every `cargo test`.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../checks/import.rs"]
mod checks;

fuzz_target!(|data: &[u8]| {
    checks::import_one(data);
});
