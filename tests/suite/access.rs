//! Every API route against every kind of caller: what a role must not use answers 403, an
//! office the caller has no role in answers 404 (its objects are not theirs to learn of), an
//! anonymous call 401; what a role may use gets past those (its answer is then about the
//! request itself). One table, read row by row.

use crate::common::{Server, naskah};

/// Who calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anonymous,
    Applicant,
    Secretary,
    Head,
    Auditor,
    Outsider,
    Admin,
}

/// What a caller gets: let through, or refused with this status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gets {
    Through,
    Refused(u16),
}

use Gets::{Refused, Through};
use Who::*;

const CALLERS: [Who; 7] = [
    Anonymous, Applicant, Secretary, Head, Auditor, Outsider, Admin,
];

/// A row of the table for the six callers before the admin, who gets what the auditor gets:
/// both hold a role of the office outside its SOP.
fn and_admin(six: [Gets; 6]) -> [Gets; 7] {
    [six[0], six[1], six[2], six[3], six[4], six[5], six[4]]
}

#[test]
fn every_route_refuses_whom_it_must() {
    let db = crate::common::TestDb::new(crate::common::Backend::Sqlite);
    let pool = db.open();
    let mut conn = pool.get().expect("connection");
    naskah::db::migrate::run_pending(&mut conn).expect("migrate");
    naskah::demo::create(&mut conn).expect("demo");
    let office = naskah::office::find_by_code(&mut conn, "banggai")
        .expect("q")
        .expect("office");
    let person = |conn: &mut naskah::db::DbConn, username: &str| {
        naskah::people::find_by_username(conn, username)
            .expect("q")
            .expect("person")
            .id
    };
    let (_, sop) = naskah::workflow::current_sop(&mut conn, office.id).expect("sop");
    let applicant_role = sop
        .roles
        .iter()
        .find(|r| r.applicant)
        .expect("applicant")
        .id
        .clone();
    // The demo's auditor (reads everything of Banggai, changes nothing) and admin (keeps its
    // accounts and roles, holds no role of the SOP).
    let auditor = person(&mut conn, "banggai.auditor");
    let admin = person(&mut conn, "banggai.admin");
    let callers = [
        (
            Applicant,
            person(&mut conn, &format!("banggai.{applicant_role}")),
        ),
        (Secretary, person(&mut conn, "banggai.sekretariat")),
        (Head, person(&mut conn, "banggai.kadis")),
        (Auditor, auditor),
        (Outsider, person(&mut conn, "sumbar.kadis")),
        (Admin, admin),
    ];
    let tokens: Vec<(Who, String)> = callers
        .iter()
        .map(|(who, id)| {
            (
                *who,
                naskah::tokens::create(&mut conn, *id, "test").expect("token"),
            )
        })
        .collect();
    // A draft letter, and a numbered one with its number.
    let draft = |conn: &mut naskah::db::DbConn| {
        crate::common::banggai_draft(conn, naskah::letters::LetterKind::SuratRekomendasi, None)
    };
    let (a, b) = (draft(&mut conn), draft(&mut conn));
    let register =
        naskah::numbering::register_by_code(&mut conn, office.id, "keluar").expect("register");
    let secretary = person(&mut conn, "banggai.sekretariat");
    let issued = naskah::numbering::issue(
        &mut conn,
        register.id,
        b,
        chrono::Utc::now().date_naive(),
        secretary,
        naskah::db::now(),
    )
    .expect("number");
    // A request at its first step, the applicant's.
    let applicant = person(&mut conn, &format!("banggai.{applicant_role}"));
    let request = naskah::workflow::file_request(
        &mut conn,
        office.id,
        applicant,
        &naskah::workflow::NewRequest {
            organization: "Dinas Kesehatan",
            application_name: "SIMPUS",
            subdomain: Some("simpus"),
            application_type: None,
        },
        chrono::Utc::now(),
    )
    .expect("request");
    drop(conn);

    let mut command = naskah(db.dir.path());
    command
        .env("NASKAH_DATABASE_URL", &db.url)
        .args(["serve", "--bind", "127.0.0.1:0"]);
    let server = Server::start(command);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let call = |method: &str, path: &str, body: &str, token: Option<&str>| -> (u16, String) {
        let url = format!("http://{}{path}", server.addr);
        let auth = token.map(|t| format!("Bearer {t}"));
        let response = match method {
            "GET" => {
                let mut r = agent.get(&url);
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                r.call()
            }
            "DELETE" => {
                let mut r = agent.delete(&url);
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                r.call()
            }
            _ => {
                let mut r = if method == "PUT" {
                    agent.put(&url)
                } else {
                    agent.post(&url)
                };
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                r.header("Content-Type", "application/json")
                    .send(body.as_bytes())
            }
        };
        let mut response = response.expect("response");
        (
            response.status().as_u16(),
            response.body_mut().read_to_string().unwrap_or_default(),
        )
    };

    // (method, path, body, [anonymous, applicant, secretary, head, auditor, outsider, admin]).
    let secretariat_only = and_admin([
        Refused(401),
        Refused(403),
        Through,
        Refused(403),
        Refused(403),
        Refused(404),
    ]);
    let office_roles = and_admin([
        Refused(401),
        Through,
        Through,
        Through,
        Through,
        Refused(404),
    ]);
    let staff_only = and_admin([
        Refused(401),
        Refused(403),
        Through,
        Through,
        Through,
        Refused(404),
    ]);
    // The letter is of no request of the applicant's: to them it is as unknown as another
    // office's (404), whatever its state.
    let signers_only = and_admin([
        Refused(401),
        Refused(404),
        Refused(403),
        Through,
        Refused(403),
        Refused(404),
    ]);
    // A code for BSrE's signing goes to an official: a signer, or another who parafs.
    let officials_only = and_admin([
        Refused(401),
        Refused(403),
        Through,
        Through,
        Refused(403),
        Refused(404),
    ]);
    // The same for a letter of no request of the applicant's: unknown to them.
    let officials_of_the_letter = and_admin([
        Refused(401),
        Refused(404),
        Through,
        Through,
        Refused(403),
        Refused(404),
    ]);
    let anyone_signed_in = [
        Refused(401),
        Through,
        Through,
        Through,
        Through,
        Through,
        Through,
    ];
    let applicants_only = and_admin([
        Refused(401),
        Through,
        Refused(403),
        Refused(403),
        Refused(403),
        Refused(404),
    ]);
    let admin_only = [
        Refused(401),
        Refused(403),
        Refused(403),
        Refused(403),
        Refused(403),
        Refused(404),
        Through,
    ];
    let auditor = auditor.0;
    let request = request.0;
    let number = issued.id;
    let rows: Vec<(&str, String, &str, [Gets; 7])> = vec![
        (
            "POST",
            format!("/api/v1/letters/{a}/number"),
            r#"{"register":"keluar","date":"2000-01-01"}"#,
            secretariat_only,
        ),
        (
            "POST",
            format!("/api/v1/letters/{a}/number/insert"),
            r#"{"register":"keluar","date":"2000-01-01","reason":"uji"}"#,
            secretariat_only,
        ),
        (
            "POST",
            "/api/v1/offices/banggai/registers/keluar/reservations".into(),
            r#"{"count":0,"reason":"uji"}"#,
            secretariat_only,
        ),
        (
            "GET",
            "/api/v1/offices/banggai/registers/keluar/numbers".into(),
            "",
            staff_only,
        ),
        (
            "POST",
            format!("/api/v1/numbers/{number}/use"),
            r#"{"used_for":"uji"}"#,
            secretariat_only,
        ),
        (
            "POST",
            format!("/api/v1/letters/{b}/sign"),
            r#"{"passphrase":"bukan-ini","mode":"signature"}"#,
            signers_only,
        ),
        (
            "POST",
            format!("/api/v1/letters/{b}/sign/totp"),
            "{}",
            officials_of_the_letter,
        ),
        (
            "GET",
            "/api/v1/offices/banggai/classification".into(),
            "",
            office_roles,
        ),
        (
            "PUT",
            "/api/v1/offices/banggai/classification/500.12.99".into(),
            r#"{"title":"Uji"}"#,
            secretariat_only,
        ),
        (
            "DELETE",
            "/api/v1/offices/banggai/classification/500.12.99".into(),
            "",
            secretariat_only,
        ),
        (
            "GET",
            "/api/v1/offices/banggai/hosting".into(),
            "",
            office_roles,
        ),
        ("GET", "/api/v1/requests".into(), "", anyone_signed_in),
        ("GET", "/api/v1/inbox".into(), "", anyone_signed_in),
        ("POST", "/api/v1/inbox/read".into(), "{}", anyone_signed_in),
        (
            "POST",
            format!("/api/v1/letters/{a}/void"),
            r#"{"reason":"uji"}"#,
            secretariat_only,
        ),
        (
            "POST",
            format!("/api/v1/numbers/{number}/void"),
            r#"{"reason":"uji"}"#,
            secretariat_only,
        ),
        (
            "POST",
            "/api/v1/offices/banggai/requests".into(),
            r#"{"application_name":"Uji"}"#,
            applicants_only,
        ),
        (
            "GET",
            format!("/api/v1/requests/{request}"),
            "",
            office_roles,
        ),
        (
            "POST",
            format!("/api/v1/requests/{request}/steps/1"),
            "{}",
            applicants_only,
        ),
        (
            "POST",
            format!("/api/v1/requests/{request}/records"),
            r#"{"item":"subdomain","value":"simpus.banggaikab.go.id"}"#,
            officials_only,
        ),
        (
            "POST",
            format!("/api/v1/requests/{request}/handover"),
            r#"{"account":"simpus","password":"kata-sandi-awal"}"#,
            officials_only,
        ),
        (
            "POST",
            format!("/api/v1/requests/{request}/handover/reveal"),
            "",
            applicants_only,
        ),
        (
            "POST",
            format!("/api/v1/requests/{request}/attachments/manual_book"),
            "%PDF-1.7\n",
            applicants_only,
        ),
        (
            "GET",
            format!("/api/v1/requests/{request}/letters/draft/surat_permohonan"),
            "",
            office_roles,
        ),
        (
            "POST",
            format!("/api/v1/requests/{request}/letters"),
            r#"{"kind":"surat_permohonan"}"#,
            applicants_only,
        ),
        // A letter of no request: the office's staff's, not an applicant's to learn of.
        (
            "GET",
            format!("/api/v1/letters/{a}/pdf"),
            "",
            and_admin([
                Refused(401),
                Refused(404),
                Through,
                Through,
                Through,
                Refused(404),
            ]),
        ),
        ("GET", "/api/v1/waiting".into(), "", anyone_signed_in),
        // Signing many letters: anyone may ask (with nothing waiting: 422); a job is its
        // owner's only.
        (
            "POST",
            "/api/v1/signing-jobs".into(),
            r#"{"passphrase":"bukan-ini"}"#,
            anyone_signed_in,
        ),
        (
            "GET",
            "/api/v1/jobs/999999".into(),
            "",
            [
                Refused(401),
                Refused(404),
                Refused(404),
                Refused(404),
                Refused(404),
                Refused(404),
                Refused(404),
            ],
        ),
        // An office's archive is exported by its staff, auditors and admin included.
        (
            "POST",
            "/api/v1/offices/banggai/exports".into(),
            "{}",
            staff_only,
        ),
        (
            "GET",
            "/api/v1/jobs/999999/download".into(),
            "",
            [
                Refused(401),
                Refused(404),
                Refused(404),
                Refused(404),
                Refused(404),
                Refused(404),
                Refused(404),
            ],
        ),
        // A register: set up by the secretariat or the admin (the second is told the code
        // is taken: 422).
        (
            "POST",
            "/api/v1/offices/banggai/registers".into(),
            r#"{"code":"uji","name":"Uji","kind":"outgoing","pattern":"{seq}/UJI/{year}"}"#,
            [
                Refused(401),
                Refused(403),
                Through,
                Refused(403),
                Refused(403),
                Refused(404),
                Through,
            ],
        ),
        // A report by hand: made and signed by an official of the office (a NIP).
        (
            "POST",
            "/api/v1/offices/banggai/reports".into(),
            r#"{"kind":"sla","period":"2020-W01","passphrase":"bukan-ini"}"#,
            [
                Refused(401),
                Refused(403),
                Through,
                Through,
                Refused(403),
                Refused(404),
                Refused(403),
            ],
        ),
        // The audit log: the auditor and the admin read it.
        (
            "GET",
            "/api/v1/offices/banggai/audit".into(),
            "",
            [
                Refused(401),
                Refused(403),
                Refused(403),
                Refused(403),
                Through,
                Refused(404),
                Through,
            ],
        ),
        // Accounts and roles: the admin changes, the auditor reads.
        (
            "GET",
            "/api/v1/offices/banggai/people".into(),
            "",
            [
                Refused(401),
                Refused(403),
                Refused(403),
                Refused(403),
                Through,
                Refused(404),
                Through,
            ],
        ),
        (
            "POST",
            "/api/v1/offices/banggai/people".into(),
            r#"{"username":"banggai.uji","full_name":"Uji Coba","roles":["auditor"]}"#,
            admin_only,
        ),
        (
            "PUT",
            format!("/api/v1/offices/banggai/people/{auditor}"),
            r#"{"roles":["auditor"],"active":true}"#,
            admin_only,
        ),
        (
            "POST",
            format!("/api/v1/offices/banggai/people/{auditor}/password"),
            "",
            admin_only,
        ),
        // What holds an account back: the admin and the auditor read it, the admin lifts it.
        (
            "GET",
            format!("/api/v1/offices/banggai/people/{auditor}/waits"),
            "",
            [
                Refused(401),
                Refused(403),
                Refused(403),
                Refused(403),
                Through,
                Refused(404),
                Through,
            ],
        ),
        (
            "DELETE",
            format!("/api/v1/offices/banggai/people/{auditor}/waits"),
            "",
            admin_only,
        ),
        (
            "PUT",
            "/api/v1/offices/banggai".into(),
            r#"{"government":"PEMERINTAH KABUPATEN BANGGAI","name":"DINAS KOMUNIKASI, INFORMATIKA, STATISTIK DAN PERSANDIAN","address":"Jl. Jend. Sudirman No. 1","city":"Luwuk"}"#,
            admin_only,
        ),
        // The office's holidays: everyone of it reads, its admin changes.
        (
            "GET",
            "/api/v1/offices/banggai/holidays".into(),
            "",
            office_roles,
        ),
        (
            "POST",
            "/api/v1/offices/banggai/holidays".into(),
            r#"{"day":"2026-12-28","name":"Cuti bersama daerah"}"#,
            admin_only,
        ),
        (
            "DELETE",
            "/api/v1/offices/banggai/holidays/999999".into(),
            "",
            [
                Refused(401),
                Refused(403),
                Refused(403),
                Refused(403),
                Refused(403),
                Refused(404),
                // Through: the admin is told no such holiday (422).
                Through,
            ],
        ),
    ];
    let mut wrong = Vec::new();
    for (method, path, body, expected) in &rows {
        for (who, gets) in CALLERS.iter().zip(expected) {
            let token = tokens
                .iter()
                .find(|(w, _)| w == who)
                .map(|(_, t)| t.as_str());
            let (status, text) = call(method, path, body, token);
            let ok = match gets {
                Through => ![401, 403, 404].contains(&status) && status < 500,
                Refused(code) => status == *code,
            };
            if !ok {
                wrong.push(format!(
                    "{method} {path} as {who:?}: {status} (wanted {gets:?}) {text}"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}
