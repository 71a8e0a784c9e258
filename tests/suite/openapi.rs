//! The OpenAPI document: served at /api/v1/openapi.json, naming every `/api/v1` route the
//! service has and no other, and valid: schemathesis (pip, installed by the README's test line)
//! loads it and sends generated calls to every operation on loopback, as a signed-in
//! secretary and as nobody, and no call gets a server error.

use std::collections::BTreeSet;
use std::process::Command;

use crate::common::{Server, TestDb, crate_root, naskah};

/// Every `"/api/v1/…"` string literal in the route tables of `src/web/`.
fn routes_in_the_source() -> BTreeSet<String> {
    let mut routes = BTreeSet::new();
    for entry in std::fs::read_dir(crate_root().join("src/web")).expect("src/web") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("source");
        for piece in text.split("\"/api/v1/").skip(1) {
            if let Some(rest) = piece.split('"').next() {
                routes.insert(format!("/api/v1/{rest}"));
            }
        }
    }
    routes
}

#[test]
fn the_openapi_document_names_every_route_and_schemathesis_finds_no_server_error() {
    let db = TestDb::new(crate::common::Backend::Sqlite);
    let pool = db.open();
    let mut conn = pool.get().expect("connection");
    naskah::db::migrate::run_pending(&mut conn).expect("migrate");
    naskah::demo::create(&mut conn).expect("demo");
    let secretary = naskah::people::find_by_username(&mut conn, "banggai.sekretariat")
        .expect("query")
        .expect("secretary");
    let token = naskah::tokens::create(&mut conn, secretary.id, "schemathesis").expect("token");
    // Objects the document's examples name (id 1 of each), so that generated calls reach past
    // "not found" into the handlers.
    let office = naskah::office::find_by_code(&mut conn, "banggai")
        .expect("query")
        .expect("office");
    let applicant = naskah::people::find_by_username(&mut conn, "banggai.pemohon")
        .expect("query")
        .expect("applicant");
    naskah::workflow::file_request(
        &mut conn,
        office.id,
        applicant.id,
        &naskah::workflow::NewRequest {
            organization: "Dinas Kesehatan",
            application_name: "SIMPUS",
            subdomain: Some("simpus"),
            application_type: None,
        },
        chrono::Utc::now(),
    )
    .expect("request 1");
    crate::common::banggai_draft(
        &mut conn,
        naskah::letters::LetterKind::SuratRekomendasi,
        None,
    );
    drop(conn);
    let mut command = naskah(db.dir.path());
    command
        .env("NASKAH_DATABASE_URL", &db.url)
        .env("NASKAH_PKI_DIR", &crate::signing::pki().dir)
        .args(["serve", "--bind", "127.0.0.1:0"]);
    let server = Server::start(command);

    let (status, text) = server.get("/api/v1/openapi.json");
    assert_eq!(status, 200);
    let document: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(document["openapi"], "3.0.3");
    let documented: BTreeSet<String> = document["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .cloned()
        .collect();
    assert_eq!(documented, routes_in_the_source());

    let url = format!("http://{}/api/v1/openapi.json", server.addr);
    for auth in [Some(format!("Authorization: Bearer {token}")), None] {
        let mut run = Command::new("schemathesis");
        // Its cache goes to the test's directory, not the checkout.
        run.current_dir(db.dir.path()).args([
            "run",
            &url,
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "25",
            "--seed",
            "2026",
            "--request-timeout",
            "30",
        ]);
        if let Some(header) = &auth {
            run.args(["-H", header]);
        }
        let output = run
            .output()
            .expect("schemathesis runs (the README's test line installs it)");
        let stdout = String::from_utf8_lossy(&output.stdout);
        // The summary, for the test's output (`--nocapture`).
        if let Some(at) = stdout.find("SUMMARY") {
            eprintln!("{}", &stdout[at..]);
        }
        assert!(
            output.status.success(),
            "schemathesis ({}):\n{stdout}\n{}",
            if auth.is_some() {
                "signed in"
            } else {
                "anonymous"
            },
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let (status, stderr) = server.terminate();
    assert!(status.success());
    assert!(!stderr.contains(&token), "the token is never logged");
    // The service's own log agrees: no answer was a server error.
    let answered = stderr.matches("naskah::http").count();
    assert!(answered > 1000, "schemathesis made {answered} calls");
    assert!(
        !stderr.contains("status=500"),
        "{}",
        stderr
            .lines()
            .filter(|l| l.contains("status=500") || l.contains("ERROR"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
