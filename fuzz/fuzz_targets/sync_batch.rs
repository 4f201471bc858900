//! Feeds arbitrary bytes to a replica as HQ's answer. `SyncBatch::from_bytes` must refuse what
//! is not a batch; and since random bytes rarely pass the envelope's checksum, the bytes are
//! also read as a bare batch payload, which is then pulled into a fresh replica of the batch's
//! own name and scope: every outcome must be `Ok` or a typed error, never a panic.
#![no_main]

use autocrm::access::Scope;
use autocrm::sync::{self, SyncBatch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let batch = match SyncBatch::from_bytes(data) {
        Ok(b) => b,
        Err(_) => match autocrm::codec::decode_payload::<SyncBatch>(data) {
            Ok(b) => b,
            Err(_) => return,
        },
    };
    let Ok(scope) = batch.scope.parse::<Scope>() else {
        return;
    };
    let db = autocrm::Database::in_memory().expect("an in-memory database opens");
    if sync::init_replica(&db, &batch.replica, &scope).is_err() {
        return;
    }
    let _ = sync::pull(&db, &batch);
});
