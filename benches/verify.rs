//! Signed letters verified per second: COUNT one-page letters signed at B-B by naskah, verified
//! by one `naskah verify` call (the release binary, all cores), beside poppler's `pdfsig` run
//! over the same files one process each (as a script over a folder runs it) and pyHanko
//! validating them in one Python process, in the same run.
//!
//!     cargo build --release && cargo bench --bench verify -- [COUNT]
//!
//! Every verifier checks every file against the demo root; each must call every file valid.

// A benchmark that cannot set up should stop with the reason.
#![allow(clippy::expect_used)]

#[path = "common/mod.rs"]
mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use naskah::signing::{self, Level, Options, Rect, SigningKey, pki};

const PYHANKO: &str = r#"
import sys
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
root = load_cert_from_pemder(sys.argv[1])
valid = 0
for path in sys.argv[2:]:
    with open(path, 'rb') as f:
        reader = PdfFileReader(f)
        context = ValidationContext(trust_roots=[root], allow_fetching=False, revocation_mode='soft-fail')
        statuses = [validate_pdf_signature(s, context) for s in reader.embedded_signatures]
        valid += all(s.bottom_line for s in statuses) and len(statuses) > 0
print(valid)
"#;

fn letter() -> Vec<u8> {
    common::one_page_letter("BSrE")
}

/// How many times the naskah call is timed.
const CALLS: usize = 7;

fn rate(count: usize, started: Instant) -> f64 {
    count as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1000);
    // VERIFY_BENCH_KEEP=DIR keeps the corpus there, for a profiler to replay the naskah call.
    let kept = std::env::var_os("VERIFY_BENCH_KEEP").map(PathBuf::from);
    let temporary = tempfile::tempdir().expect("tempdir");
    let dir = kept.as_deref().unwrap_or(temporary.path());
    let pki_dir = dir.join("pki");
    naskah::demo::init_pki(&pki_dir).expect("demo PKI");
    let p12 = pki::official_p12("banggai.kadis");
    let der = std::fs::read(pki_dir.join(&p12)).expect("p12");
    let key = SigningKey::from_pkcs12(
        &der,
        &pki::passphrase_of(&pki_dir, &p12).expect("passphrase"),
    )
    .expect("key");
    let pdf = letter();
    let options = Options {
        page: 1,
        rect: Some(Rect {
            x: 320.0,
            y: 90.0,
            width: 220.0,
            height: 110.0,
        }),
        certify: true,
        reason: Some("Menyetujui"),
        location: None,
        field_name: None,
        signed_at: chrono::Utc::now(),
        reserve: Vec::new(),
    };
    let files: Vec<PathBuf> = (0..count)
        .map(|i| {
            let signed = signing::sign(&pdf, &key, &options, Level::BB, None, &Default::default())
                .expect("sign");
            let path = dir.join(format!("letter-{i:04}.pdf"));
            std::fs::write(&path, signed).expect("write");
            path
        })
        .collect();
    let root = pki_dir.join(pki::ROOT_CERT);

    // One call takes a fifth of a second: a single sample would measure the machine (the
    // page cache still writing the files out, the binary's first load) more than naskah. The
    // call is made once to warm up, then timed CALLS times, and its median rate is taken;
    // pyHanko's one long process and pdfsig's thousand processes average out by themselves.
    let verify = || {
        Command::new(env!("CARGO_BIN_EXE_naskah"))
            .arg("verify")
            .arg("--json")
            .arg("--trust")
            .arg(&root)
            .args(&files)
            .output()
            .expect("naskah verify")
    };
    let mut output = verify();
    let mut rates: Vec<f64> = (0..CALLS)
        .map(|_| {
            let started = Instant::now();
            output = verify();
            rate(count, started)
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    let naskah = rates[CALLS / 2];
    // B-B letters carry no revocation data: each is intact, unchanged and chained to the
    // root, and INDETERMINATE for that alone (pyHanko and pdfsig, as run here, do not ask).
    let stdout = String::from_utf8_lossy(&output.stdout);
    let judged = stdout
        .lines()
        .filter(|line| {
            let report: serde_json::Value = serde_json::from_str(line).expect("json");
            let signature = &report["signatures"][0];
            report["verdict"] == "INDETERMINATE"
                && signature["integrity"] == "INTACT"
                && signature["changes_after"] == "NONE"
                && signature["problems"].as_array().is_some_and(|p| {
                    p.len() == 1
                        && p[0]
                            .as_str()
                            .is_some_and(|p| p.starts_with("status pencabutan tidak diketahui"))
                })
        })
        .count();
    assert_eq!(
        judged,
        count,
        "naskah verify: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let nss = dir.join("nssdb");
    std::fs::create_dir(&nss).expect("nss");
    let nss = format!("sql:{}", nss.display());
    let certutil = |args: &[&str]| {
        Command::new("certutil")
            .args(args)
            .output()
            .expect("certutil")
    };
    certutil(&["-N", "-d", &nss, "--empty-password"]);
    certutil(&[
        "-A",
        "-d",
        &nss,
        "-n",
        "root",
        "-t",
        "C,C,C",
        "-i",
        &root.to_string_lossy(),
    ]);
    let started = Instant::now();
    for file in &files {
        let output = Command::new("pdfsig")
            .arg("-nssdir")
            .arg(&nss)
            .arg(file)
            .output()
            .expect("pdfsig");
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("Signature is Valid."),
            "pdfsig on {}",
            file.display()
        );
    }
    let pdfsig = rate(count, started);

    let started = Instant::now();
    let output = Command::new("python3")
        .args(["-c", PYHANKO])
        .arg(&root)
        .args(&files)
        .output()
        .expect("python3 with pyHanko");
    let pyhanko = rate(count, started);
    let valid: usize = String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    assert_eq!(
        valid,
        count,
        "pyHanko: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let size = std::fs::metadata(&files[0]).map_or(0, |m| m.len());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("{count} letters ({size} bytes each), {cores} cores");
    let each: Vec<String> = rates.iter().map(|r| format!("{r:.0}")).collect();
    println!(
        "naskah verify (one call, median of {CALLS}): {naskah:.0} letters/s ({})",
        each.join(", ")
    );
    println!("pdfsig (a process per file): {pdfsig:.1} letters/s");
    println!("pyHanko (one process): {pyhanko:.1} letters/s");
    println!(
        "naskah / pdfsig = {:.0}x; naskah / pyHanko = {:.0}x",
        naskah / pdfsig,
        naskah / pyhanko
    );
}
