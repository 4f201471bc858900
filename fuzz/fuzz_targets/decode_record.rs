//! Feeds arbitrary bytes to the record decoder: it must return an error, never panic, and
//! never allocate without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = autocrm::codec::check_any(data);
});
