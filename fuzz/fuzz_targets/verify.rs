//! The PDF reader and the verifier on arbitrary bytes: they end with a report or an error,
//! never a panic, a hang or a crash. Run with `cargo fuzz run verify` (see fuzz/README.md).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let roots = naskah::verify::Roots::default();
    let _ = naskah::verify::verify(data, &roots);
});
