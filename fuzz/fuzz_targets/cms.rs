//! The CMS reader on arbitrary bytes, DER and BER: the BER-to-DER re-encoder, the SignedData
//! reader and the signature check end with a value or an error, never a panic, a hang or a
//! crash. Run with `cargo fuzz run cms` (see fuzz/README.md).

#![no_main]

use libfuzzer_sys::fuzz_target;
use naskah::verify::{ber, cms};

fuzz_target!(|data: &[u8]| {
    if let Ok(der) = ber::to_der(data) {
        // DER is a fixed point: re-encoding it changes nothing.
        assert_eq!(ber::to_der(&der).as_deref(), Ok(der.as_slice()));
    }
    if let Ok(parsed) = cms::parse(data) {
        let parts: [&[u8]; 1] = [b"naskah"];
        let content = cms::Content {
            parts: &parts,
            digest: cms::Digest::Sha256.hash(&parts),
        };
        let _ = cms::check(&parsed, &content, naskah::signing::cms::ID_DATA);
        let _ = cms::signing_time(&parsed.signer);
    }
    let _ = cms::check_time_stamp(data, &[b"naskah"]);
});
