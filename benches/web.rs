//! The work pages under load: `naskah serve` (the release binary) with 10,000 generated
//! requests across the five demo offices (15 % of them open), a signed-in kepala dinas, and
//! wrk on loopback asking for their home page (what waits for them, inbox, requests) and a
//! request's page, beside `/healthz` (the service's floor: no database, no template) measured
//! in the same run. On SQLite and on PostgreSQL.
//!
//!     cargo build --release && cargo bench --bench web -- [SECONDS] [CONNECTIONS]
//!
//! Needs wrk (Debian's package). PostgreSQL at NASKAH_BENCH_POSTGRES (default
//! postgres://postgres@127.0.0.1:5432), in a database `naskah_bench_web` made afresh.

// A benchmark that cannot set up should stop with the reason.
#![allow(clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use naskah::config::DatabaseUrl;
use naskah::db::Db;

const PER_OFFICE: usize = 2_000;
const PASSWORD: &str = "beban-uji-2026";

struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Requests per second and the 99th percentile latency in milliseconds, as wrk reports them.
fn wrk(url: &str, cookie: &str, seconds: u64, connections: u32) -> (f64, f64) {
    let output = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            "-H",
            &format!("Cookie: {cookie}"),
            url,
        ])
        .output()
        .expect("wrk (apt-get install wrk)");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(
        !text.contains("Non-2xx"),
        "{url} answered errors under load:\n{text}"
    );
    let rate = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("Requests/sec");
    let p99 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("99%"))
        .map(|v| milliseconds(v.trim()))
        .expect("the 99% line");
    (rate, p99)
}

fn milliseconds(value: &str) -> f64 {
    let (number, factor) = if let Some(v) = value.strip_suffix("us") {
        (v, 0.001)
    } else if let Some(v) = value.strip_suffix("ms") {
        (v, 1.0)
    } else if let Some(v) = value.strip_suffix('s') {
        (v, 1000.0)
    } else {
        (value, 1.0)
    };
    number.parse::<f64>().expect("a latency") * factor
}

fn run(label: &str, url: &str, dir: &std::path::Path, seconds: u64, connections: u32) {
    let db = Db::open(&DatabaseUrl::parse(url).expect("url"), 2).expect("database");
    let mut conn = db.get().expect("connection");
    naskah::db::migrate::run_pending(&mut conn).expect("migrate");
    naskah::demo::create(&mut conn).expect("demo");
    let year = chrono::Utc::now().date_naive().format("%Y").to_string();
    let year: i32 = year.parse().expect("year");
    for (i, code) in naskah::demo::office_codes().iter().enumerate() {
        let office = naskah::office::find_by_code(&mut conn, code)
            .expect("query")
            .expect("office");
        naskah::reports::synthetic::generate(&mut conn, &office, year, PER_OFFICE, 7 + i as u64)
            .expect("generate");
    }
    let kadis = naskah::people::find_by_username(&mut conn, "banggai.kadis")
        .expect("query")
        .expect("kadis");
    naskah::accounts::set_password(&mut conn, kadis.id, PASSWORD, None).expect("password");
    let request: i64 = {
        use diesel::prelude::*;
        use naskah::db::schema::{offices, requests};
        requests::table
            .inner_join(offices::table)
            .filter(offices::code.eq("banggai"))
            .filter(requests::status.eq("open"))
            .select(requests::id)
            .first::<naskah::ids::RequestId>(&mut conn)
            .expect("an open request")
            .0
    };
    if url.starts_with("postgres") {
        // Statistics as autovacuum would have them for a database in use; left to it, it
        // analyses the fresh 10,000 requests in the middle of a measurement.
        use diesel::RunQueryDsl;
        diesel::sql_query("VACUUM ANALYZE")
            .execute(&mut conn)
            .expect("vacuum analyze");
    }
    drop(conn);

    let mut child = Command::new(env!("CARGO_BIN_EXE_naskah"))
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("NASKAH_DATABASE_URL", url)
        .env("NASKAH_DATA_DIR", dir)
        .env("NASKAH_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("naskah serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the address line");
    let served = Served(child);
    let base = line
        .trim()
        .strip_prefix("naskah listening on ")
        .expect("listening")
        .to_owned();
    let cookie = sign_in(&base);
    if std::env::var_os("WEB_BENCH_HOLD").is_some() {
        // For profiling: the server stays up with the data for ten minutes.
        println!("{label}: {base} {cookie} request {request}");
        std::thread::sleep(Duration::from_secs(600));
    }

    let mut rows = Vec::new();
    for (name, path) in [
        ("healthz (floor)", "/healthz".to_owned()),
        ("beranda", "/beranda".to_owned()),
        ("permohonan", format!("/permohonan/{request}")),
    ] {
        let (rate, p99) = wrk(&format!("{base}{path}"), &cookie, seconds, connections);
        rows.push((name, rate, p99));
    }
    drop(served);
    let floor = rows[0].1;
    for (name, rate, p99) in rows {
        println!(
            "{label}: {name:16} {rate:8.0} requests/s  p99 {p99:6.1} ms  ({:.2} of /healthz)",
            rate / floor
        );
    }
}

/// Signs the kepala dinas in through the sign-in form; returns the session cookie.
fn sign_in(base: &str) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let form = agent.get(&format!("{base}/masuk")).call().expect("form");
    let token = form
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("naskah_masuk="))
        .and_then(|c| c.split(';').next())
        .expect("the form's cookie")
        .to_owned();
    let signed = agent
        .post(&format!("{base}/masuk"))
        .header("Cookie", &format!("naskah_masuk={token}"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .send(format!("username=banggai.kadis&password={PASSWORD}&csrf={token}").as_bytes())
        .expect("sign in");
    signed
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("naskah_sesi="))
        .and_then(|c| c.split(';').next())
        .expect("a session")
        .to_owned()
}

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .map(|a| a.parse::<u64>().expect("a number"));
    let seconds = args.next().unwrap_or(15);
    let connections = args.next().unwrap_or(32) as u32;
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = format!("sqlite://{}", dir.path().join("web.sqlite3").display());
    // WEB_BENCH_ONLY=sqlite or =postgres measures one backend (for profiling with
    // WEB_BENCH_HOLD).
    let only = std::env::var("WEB_BENCH_ONLY").ok();
    let wanted = |backend: &str| only.as_deref().is_none_or(|o| o == backend);
    if wanted("sqlite") {
        run("sqlite", &sqlite, dir.path(), seconds, connections);
    }
    if !wanted("postgres") {
        return;
    }

    let admin = std::env::var("NASKAH_BENCH_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
    let psql = |sql: &str| {
        let status = Command::new("psql")
            .args([&format!("{admin}/postgres"), "-qc", sql])
            .status()
            .expect("psql");
        assert!(status.success(), "{sql}");
    };
    psql("DROP DATABASE IF EXISTS naskah_bench_web");
    psql("CREATE DATABASE naskah_bench_web");
    let pg_dir = tempfile::tempdir().expect("tempdir");
    run(
        "postgres",
        &format!("{admin}/naskah_bench_web"),
        pg_dir.path(),
        seconds,
        connections,
    );
}
