//! `naskah serve` as an operator runs it: it answers health and readiness, stops cleanly on
//! SIGTERM, and several processes started at once on one empty database all come up with the
//! migrations applied once.

use naskah::db::migrate;

use crate::common::{Backend, Server, TestDb, naskah, on_both_backends};

fn serve(db: &TestDb) -> std::process::Command {
    let mut command = naskah(db.dir.path());
    command
        .env("NASKAH_DATABASE_URL", &db.url)
        .args(["serve", "--bind", "127.0.0.1:0"]);
    command
}

/// The number of migrations a `naskah serve` says it applied, from its JSON log.
fn migrations_applied(stderr: &str) -> usize {
    stderr
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|event| event["message"] == "database schema up to date")
        .map(|event| event["applied"].as_u64().unwrap_or(0) as usize)
        .sum()
}

on_both_backends! {
    fn answers_health_and_readiness_then_stops_on_sigterm(db) {
        let server = Server::start(serve(db));
        let (status, body) = server.get("/healthz");
        assert_eq!((status, body.as_str()), (200, r#"{"status":"ok"}"#));
        let (status, body) = server.get("/readyz");
        assert_eq!(status, 200, "{body}");
        let (status, _) = server.get("/no-such-page");
        assert_eq!(status, 404);
        let (exit, stderr) = server.terminate();
        assert!(exit.success(), "exit {exit:?} after SIGTERM; stderr:\n{stderr}");
        assert!(stderr.contains("stopped"), "says it stopped:\n{stderr}");
    }

    fn two_processes_started_together_apply_the_migrations_once(db) {
        let mut first = serve(db);
        let mut second = serve(db);
        first.env("NASKAH_LOG_FORMAT", "json");
        second.env("NASKAH_LOG_FORMAT", "json");
        // Started from two threads so that neither waits for the other's start.
        let (a, b) = std::thread::scope(|scope| {
            let a = scope.spawn(|| Server::start(first));
            let b = scope.spawn(|| Server::start(second));
            (a.join().expect("first starts"), b.join().expect("second starts"))
        });
        assert_eq!(a.get("/readyz").0, 200);
        assert_eq!(b.get("/readyz").0, 200);
        let (exit_a, log_a) = a.terminate();
        let (exit_b, log_b) = b.terminate();
        assert!(exit_a.success() && exit_b.success(), "{log_a}\n{log_b}");

        let pool = db.open();
        let mut conn = pool.get().expect("connection");
        let known = migrate::known_versions(&conn).len();
        assert!(known > 0);
        assert_eq!(
            migrations_applied(&log_a) + migrations_applied(&log_b),
            known,
            "between them the two processes applied each migration once:\n{log_a}\n{log_b}"
        );
        assert!(migrate::run_pending(&mut conn).expect("migrate").is_empty());
    }
}

#[test]
fn readiness_fails_while_the_database_is_gone() {
    let db = TestDb::new(Backend::Postgres);
    let server = Server::start(serve(&db));
    assert_eq!(server.get("/readyz").0, 200);
    db.drop_now();
    let (status, body) = server.get("/readyz");
    assert_eq!(status, 503, "{body}");
    assert_eq!(
        server.get("/healthz").0,
        200,
        "alive even without its database"
    );
}
