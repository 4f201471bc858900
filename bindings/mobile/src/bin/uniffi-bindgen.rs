//! The UniFFI bindings generator, built from this crate's own UniFFI version so the generated
//! Kotlin and Swift always match the library (`generate.sh` runs it in library mode).

fn main() {
    uniffi::uniffi_bindgen_main()
}
