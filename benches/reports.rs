//! The annual report over a year of 10,000 generated requests across the five demo offices
//! (2,000 each): each office's report made by `naskah report annual` (the release binary),
//! computed, rendered, numbered and signed, timed with its peak memory (GNU time's maximum
//! resident set), on SQLite and on PostgreSQL.
//!
//!     cargo build --release && cargo bench --bench reports -- [PER_OFFICE]
//!
//! PostgreSQL at NASKAH_BENCH_POSTGRES (default postgres://postgres@127.0.0.1:5432), in a
//! database `naskah_bench_reports` made afresh.

// A benchmark that cannot set up should stop with the reason.
#![allow(clippy::expect_used)]

use std::process::Command;
use std::time::Instant;

use naskah::config::DatabaseUrl;
use naskah::db::Db;

fn run(label: &str, url: &str, dir: &std::path::Path, per_office: usize) {
    let db = Db::open(&DatabaseUrl::parse(url).expect("url"), 2).expect("database");
    let mut conn = db.get().expect("connection");
    naskah::db::migrate::run_pending(&mut conn).expect("migrate");
    naskah::demo::create(&mut conn).expect("demo");
    let started = Instant::now();
    for (i, (code, _)) in naskah::demo::REPORT_SIGNERS.iter().enumerate() {
        let office = naskah::office::find_by_code(&mut conn, code)
            .expect("query")
            .expect("office");
        naskah::reports::synthetic::generate(&mut conn, &office, 2025, per_office, 11 + i as u64)
            .expect("generate");
    }
    println!(
        "{label}: {} requests generated in {:.1} s",
        per_office * naskah::demo::REPORT_SIGNERS.len(),
        started.elapsed().as_secs_f64()
    );
    drop(conn);
    let pki = dir.join("pki");
    let mut worst = (0.0f64, 0u64);
    for (code, signer) in naskah::demo::REPORT_SIGNERS {
        let output = Command::new("/usr/bin/time")
            .args(["-f", "%e %M"])
            .arg(env!("CARGO_BIN_EXE_naskah"))
            .args([
                "report", "annual", "--office", code, "--period", "2025", "--signer", signer,
            ])
            .env("NASKAH_DATABASE_URL", url)
            .env("NASKAH_PKI_DIR", &pki)
            .env("NASKAH_DATA_DIR", dir)
            .env("NASKAH_LOG", "warn")
            .output()
            .expect("naskah report under GNU time");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{code}: {stderr}");
        let last = stderr.lines().last().unwrap_or_default();
        let mut parts = last.split_whitespace();
        let seconds: f64 = parts.next().and_then(|s| s.parse().ok()).expect("elapsed");
        let kilobytes: u64 = parts.next().and_then(|s| s.parse().ok()).expect("max RSS");
        println!(
            "{label}: {code}: annual report of {per_office} requests in {seconds:.2} s, peak {:.1} MB",
            kilobytes as f64 / 1024.0
        );
        worst = (worst.0.max(seconds), worst.1.max(kilobytes));
    }
    println!(
        "{label}: slowest {:.2} s, largest peak {:.1} MB (goal: under 10 s and 300 MB)",
        worst.0,
        worst.1 as f64 / 1024.0
    );
}

fn main() {
    let per_office: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(2_000);
    let dir = tempfile::tempdir().expect("tempdir");
    naskah::demo::init_pki(&dir.path().join("pki")).expect("demo PKI");

    let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
    run("SQLite", &sqlite, dir.path(), per_office);

    let server = std::env::var("NASKAH_BENCH_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let admin = Db::open(
        &DatabaseUrl::parse(&format!("{server}/postgres")).expect("url"),
        1,
    )
    .expect("PostgreSQL");
    {
        use diesel::connection::SimpleConnection;
        let mut conn = admin.get().expect("connection");
        conn.batch_execute("DROP DATABASE IF EXISTS naskah_bench_reports")
            .expect("drop");
        conn.batch_execute("CREATE DATABASE naskah_bench_reports")
            .expect("create");
    }
    run(
        "PostgreSQL",
        &format!("{server}/naskah_bench_reports"),
        dir.path(),
        per_office,
    );
}
