//! The schedule as the kepala dinas relies on it: two naskah instances on one PostgreSQL
//! database, both firing the report jobs every 10 seconds for a minute, make each office's
//! report of each period exactly once; an instance started after a period came due makes it
//! once, and a restart does not make it again. A bad cron line stops naskah at start-up.

use diesel::prelude::*;
use naskah::db::schema::{letters, report_runs};

use crate::common::{Backend, Server, TestDb, naskah, on_both_backends};
use crate::signing::pki;

/// `naskah serve --demo` on `db`, its reports scheduled by `line` and signed by the demo
/// offices' division heads, as a configuration file names them, their passphrases in the
/// environment.
fn serve(db: &TestDb, line: &str) -> Server {
    let mut config = String::from("[schedule.signers]\n");
    let mut command = naskah(db.dir.path());
    for (office, username) in naskah::demo::REPORT_SIGNERS {
        let var = format!("NASKAH_TEST_SIGNER_{}", office.to_uppercase());
        config.push_str(&format!(
            "{office} = {{ username = \"{username}\", passphrase_env = \"{var}\" }}\n"
        ));
        command.env(&var, crate::signing::passphrase(username));
    }
    let file = db.dir.path().join("naskah.toml");
    std::fs::write(&file, config).expect("config");
    command
        .env("NASKAH_CONFIG", &file)
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

on_both_backends! {
    fn the_daily_audit_check_tells_the_admins_of_a_break(db) {
        use diesel::connection::SimpleConnection;
        use naskah::db::schema::{inbox, person_roles};
        let pool = db.open();
        let mut conn = pool.get().expect("connection");
        naskah::db::migrate::run_pending(&mut conn).expect("migrate");
        naskah::demo::create(&mut conn).expect("demo");
        let office = naskah::office::find_by_code(&mut conn, "banggai").expect("q").expect("office");
        let admin = naskah::people::find_by_username(&mut conn, "banggai.sekretariat")
            .expect("q")
            .expect("person")
            .id;
        diesel::insert_into(person_roles::table)
            .values((
                person_roles::person_id.eq(admin),
                person_roles::office_id.eq(office.id),
                person_roles::role.eq(naskah::people::roles::ADMIN),
                person_roles::created_at.eq(naskah::db::now()),
            ))
            .execute(&mut *conn)
            .expect("an admin");
        let settings = crate::common::letter_settings();
        let context = std::sync::Arc::new(naskah::schedule::Context {
            db: pool.clone(),
            tte: naskah::tte::Settings::local(pki().dir.clone(), settings),
            schedule: naskah::schedule::Schedule::default(),
            instance: "test".into(),
        });
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let told = |conn: &mut naskah::db::DbConn| -> Vec<String> {
            inbox::table
                .filter(inbox::person_id.eq(admin))
                .filter(inbox::kind.eq("audit.break"))
                .select(inbox::subject)
                .load(conn)
                .expect("inbox")
        };
        runtime.block_on(naskah::schedule::audit_check(context.clone()));
        assert!(told(&mut conn).is_empty(), "an intact log tells nobody");

        let unguard = match &*conn {
            naskah::db::DbConn::Pg(_) => "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only",
            naskah::db::DbConn::Sqlite(_) => "DROP TRIGGER audit_log_no_update",
        };
        conn.batch_execute(unguard).expect("drop the guard");
        conn.batch_execute("UPDATE audit_log SET subject = 'office:99' WHERE id = 2").expect("edit");
        runtime.block_on(naskah::schedule::audit_check(context));
        let told = told(&mut conn);
        assert_eq!(told.len(), 1, "{told:?}");
        assert!(told[0].contains("1 kerusakan rantai") && told[0].contains("naskah audit verify"), "{told:?}");
    }
}
