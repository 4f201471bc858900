//! napi-build sets the linker flags a Node addon needs (undefined napi symbols resolved by node).
fn main() {
    napi_build::setup();
}
