//! B-B signatures per second on one core, RSA-2048, a one-page letter, beside the two figures
//! it is judged against, measured in the same run: `openssl speed -seconds 3 rsa2048` (the
//! bare RSA-2048 sign rate) and pyHanko signing the same letter with the same key in one
//! Python process.
//!
//!     cargo bench --bench signing -- [SECONDS]
//!
//! Each naskah signature is complete: the letter read within limits, the incremental update
//! written, the byte ranges hashed, the CMS built and signed, the file finished. The key is
//! unlocked once, as pyHanko's is (unlocking a PKCS#12 is a deliberate PBKDF2 cost, measured
//! on its own line). Runs on the calling thread only.

// A benchmark that cannot set up should stop with the reason.
#![allow(clippy::expect_used)]

#[path = "common/mod.rs"]
mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use naskah::signing::{self, Level, Options, SigningKey, pki};

const SIGNER: &str = "banggai.kadis";

fn letter() -> Vec<u8> {
    common::one_page_letter(
        "Balai Besar Sertifikasi Elektronik (BSrE), Badan Siber dan Sandi Negara",
    )
}

/// Signs for `seconds`; returns (signatures, elapsed).
fn naskah_rate(pdf: &[u8], key: &SigningKey, seconds: u64) -> (u64, Duration) {
    let options = Options {
        page: 1,
        rect: None,
        certify: false,
        reason: Some("Menyetujui"),
        location: Some("Luwuk"),
        field_name: None,
        signed_at: chrono::Utc::now(),
        reserve: Vec::new(),
    };
    let sign =
        || signing::sign(pdf, key, &options, Level::BB, None, &Default::default()).expect("sign");
    for _ in 0..50 {
        sign();
    }
    let started = Instant::now();
    let mut count = 0;
    while started.elapsed() < Duration::from_secs(seconds) {
        sign();
        count += 1;
    }
    (count, started.elapsed())
}

/// `openssl speed -seconds 3 rsa2048`: RSA-2048 signatures per second.
fn openssl_rate() -> f64 {
    let output = Command::new("openssl")
        .args(["speed", "-seconds", "3", "rsa2048"])
        .output()
        .expect("openssl speed");
    let text = String::from_utf8_lossy(&output.stdout);
    // "rsa 2048 bits 0.000612s 0.000018s   1634.0  55555.6" (sign, verify, sign/s, verify/s)
    let line = text
        .lines()
        .find(|l| {
            l.trim_start().starts_with("rsa 2048 bits")
                || l.trim_start().starts_with("rsa  2048 bits")
        })
        .unwrap_or_else(|| panic!("no rsa 2048 line in:\n{text}"));
    let fields: Vec<&str> = line.split_whitespace().collect();
    fields[fields.len() - 2].parse().expect("sign/s")
}

const PYHANKO: &str = r#"
import io, sys, time
from pyhanko.sign import signers, fields
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
letter, p12, passphrase, seconds = sys.argv[1], sys.argv[2], sys.argv[3].encode(), float(sys.argv[4])
signer = signers.SimpleSigner.load_pkcs12(p12, passphrase=passphrase)
data = open(letter, 'rb').read()
meta = signers.PdfSignatureMetadata(field_name='Signature1', reason='Menyetujui', location='Luwuk', subfilter=fields.SigSeedSubFilter.PADES)
def sign():
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(data)), meta, signer=signer)
    return out.getvalue()
for _ in range(3):
    sign()
count, started = 0, time.perf_counter()
while time.perf_counter() - started < seconds:
    sign()
    count += 1
print(count, time.perf_counter() - started)
"#;

fn pyhanko_rate(
    letter: &std::path::Path,
    p12: &std::path::Path,
    passphrase: &str,
    seconds: u64,
) -> f64 {
    let output = Command::new("python3")
        .args(["-c", PYHANKO])
        .arg(letter)
        .arg(p12)
        .arg(passphrase)
        .arg(seconds.to_string())
        .output()
        .expect("python3 with pyHanko");
    assert!(
        output.status.success(),
        "pyHanko: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let mut parts = text.split_whitespace();
    let count: f64 = parts.next().and_then(|c| c.parse().ok()).expect("count");
    let elapsed: f64 = parts.next().and_then(|c| c.parse().ok()).expect("seconds");
    count / elapsed
}

fn main() {
    let seconds: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10);
    let dir = tempfile::tempdir().expect("tempdir");
    let pki_dir = dir.path().join("pki");
    naskah::demo::init_pki(&pki_dir).expect("demo PKI");
    let p12_file = pki::official_p12(SIGNER);
    let p12 = pki_dir.join(&p12_file);
    let passphrase = pki::passphrase_of(&pki_dir, &p12_file).expect("passphrase");
    let der = std::fs::read(&p12).expect("p12");
    let unlock_started = Instant::now();
    let key = SigningKey::from_pkcs12(&der, &passphrase).expect("unlock");
    let unlock = unlock_started.elapsed();
    assert_eq!(key.certificate.public_key().expect("key").bits(), 2048);

    let pdf = letter();
    let letter_path = dir.path().join("letter.pdf");
    std::fs::write(&letter_path, &pdf).expect("write");

    let (count, elapsed) = naskah_rate(&pdf, &key, seconds);
    let naskah = count as f64 / elapsed.as_secs_f64();
    let openssl = openssl_rate();
    let pyhanko = pyhanko_rate(&letter_path, &p12, &passphrase, seconds);
    println!(
        "naskah: {count} signatures in {:.1} s = {naskah:.0}/s (letter {} bytes, PKCS#12 unlock {:.1} ms)",
        elapsed.as_secs_f64(),
        pdf.len(),
        unlock.as_secs_f64() * 1000.0
    );
    println!("openssl speed rsa2048: {openssl:.0} sign/s");
    println!("pyHanko (one process): {pyhanko:.1}/s");
    println!(
        "naskah / pyHanko = {:.0}x; naskah / openssl RSA-2048 sign = {:.0}%",
        naskah / pyhanko,
        100.0 * naskah / openssl
    );
}
