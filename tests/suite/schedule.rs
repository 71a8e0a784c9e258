//! The schedule as the kepala dinas relies on it: two naskah instances on one PostgreSQL
//! database, both firing the report jobs every 10 seconds for a minute, make each office's
//! report of each period exactly once; an instance started after a period came due makes it
//! once, and a restart does not make it again. A bad cron line stops naskah at start-up.

use diesel::prelude::*;
use naskah::db::schema::{letters, report_runs};

use crate::common::{Backend, Server, TestDb, naskah, on_both_backends};
use crate::signing::pki;

/// `naskah serve --demo` on `db`, its reports scheduled by `line`.
fn serve(db: &TestDb, line: &str) -> Server {
    let mut command = naskah(db.dir.path());
    command
        .env("NASKAH_DATABASE_URL", &db.url)
        .env("NASKAH_PKI_DIR", &pki().dir)
        .env("NASKAH_SCHEDULE_SLA", line)
        .env("NASKAH_SCHEDULE_ANNUAL", line)
        .args(["serve", "--demo", "--bind", "127.0.0.1:0"]);
    Server::start(command)
}

/// Reports made so far: (office, kind, period) per run, and report letters.
fn made(db: &TestDb) -> (Vec<(i64, String, String)>, i64) {
    let pool = db.open();
    let mut conn = pool.get().expect("connection");
    let runs: Vec<(
        naskah::ids::OfficeId,
        String,
        String,
        Option<naskah::ids::LetterId>,
    )> = report_runs::table
        .order(report_runs::id)
        .select((
            report_runs::office_id,
            report_runs::kind,
            report_runs::period,
            report_runs::letter_id,
        ))
        .load(&mut *conn)
        .expect("runs");
    assert!(
        runs.iter().all(|r| r.3.is_some()),
        "every run has its letter: {runs:?}"
    );
    let letters: i64 = letters::table
        .filter(letters::kind.eq_any(["laporan_sla", "laporan_tahunan"]))
        .count()
        .get_result(&mut *conn)
        .expect("letters");
    (
        runs.into_iter().map(|(o, k, p, _)| (o.0, k, p)).collect(),
        letters,
    )
}

#[test]
fn two_instances_make_each_period_once_over_a_minute() {
    let db = TestDb::new(Backend::Postgres);
    let every_ten_seconds = "*/10 * * * * *";
    let first = serve(&db, every_ten_seconds);
    let second = serve(&db, every_ten_seconds);
    std::thread::sleep(std::time::Duration::from_secs(60));
    let (_, first_log) = first.terminate();
    let (_, second_log) = second.terminate();
    let (runs, report_letters) = made(&db);
    // Five demo offices, each with this week's SLA period and last year's annual one.
    assert_eq!(runs.len(), 10, "{runs:?}");
    assert_eq!(report_letters, 10);
    let mut distinct = runs.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 10);
    let tries = |log: &str| log.matches("report already made").count();
    let made_by = |log: &str| log.matches("report made and delivered").count();
    assert_eq!(made_by(&first_log) + made_by(&second_log), 10);
    // Both fired all along (at start and every 10 s): each found the periods made.
    assert!(
        tries(&first_log) >= 40 && tries(&second_log) >= 40,
        "{} {}",
        tries(&first_log),
        tries(&second_log)
    );
}

on_both_backends! {
    fn a_period_due_while_naskah_was_down_is_made_once_at_the_next_start(db) {
        // A schedule that does not fire in the test's time: only the start-up catch-up runs.
        let yearly = "0 0 7 1 1 *";
        let server = serve(db, yearly);
        let wait_for = |count: usize| {
            for _ in 0..100 {
                if made(db).0.len() >= count {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        };
        wait_for(10);
        let (_, log) = server.terminate();
        let (runs, letters) = made(db);
        assert_eq!((runs.len(), letters), (10, 10), "{log}");
        // Started again: nothing is made twice.
        let server = serve(db, yearly);
        std::thread::sleep(std::time::Duration::from_secs(3));
        let (_, log) = server.terminate();
        assert_eq!(made(db), (runs, letters), "{log}");
        assert!(log.contains("report already made"), "{log}");
    }
}

#[test]
fn a_bad_cron_line_stops_naskah_at_start_up() {
    let db = TestDb::new(Backend::Sqlite);
    let output = naskah(db.dir.path())
        .env("NASKAH_DATABASE_URL", &db.url)
        .env("NASKAH_SCHEDULE_SLA", "every monday")
        .args(["serve", "--bind", "127.0.0.1:0"])
        .output()
        .expect("naskah serve");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("NASKAH_SCHEDULE_SLA") && stderr.contains("every monday"),
        "{stderr}"
    );
}
