//! Signing letters in the workflow, through the API as an official's phone would: the kabid's
//! paraf then the kadis' signature on a numbered letter, both judged by pyHanko and pdfsig;
//! the parties of a berita acara each in their block; only the official named in the block
//! signs; five wrong passphrases lock signing for 15 minutes; a passphrase never reaches the
//! logs; and BSrE's signing service (a local fake that follows its API and signs with the demo
//! PKI), whose refusals and absences leave the letter unsigned and say why.

use std::sync::{Arc, Mutex};

use diesel::prelude::*;
use naskah::db::DbConn;
use naskah::db::schema::{letter_revisions, letter_signatures, people};
use naskah::ids::{LetterId, OfficeId, PersonId};
use naskah::letters::{self, LetterKind, store};
use serde_json::Value;

use crate::common::{Server, TestDb, naskah, on_both_backends};
use crate::signing::{Tsa, assert_valid, p12, passphrase, pki, pyhanko_validate};

/// A refusal as the API words it: the status, the error code, and words of the message.
fn assert_refused(code: u16, error: &serde_json::Value, status: u16, kind: &str, words: &str) {
    assert_eq!(
        (code, error["error"]["code"].as_str()),
        (status, Some(kind)),
        "{error}"
    );
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains(words),
        "{error}"
    );
}

pub(crate) fn settings() -> store::Settings {
    store::Settings {
        public_url: "https://naskah.example.go.id".into(),
        tte_issuer: "BSrE".into(),
        templates: None,
    }
}

pub(crate) fn person(conn: &mut DbConn, username: &str) -> naskah::people::Person {
    naskah::people::find_by_username(conn, username)
        .expect("query")
        .expect(username)
}

/// A letter of `kind` for Banggai with `signers` (usernames) in its blocks, numbered by the
/// secretariat.
pub(crate) fn numbered_letter(conn: &mut DbConn, kind: LetterKind, signers: &[&str]) -> LetterId {
    let office = naskah::office::find_by_code(conn, "banggai")
        .expect("query")
        .expect("office");
    let mut data = letters::sample(kind);
    for (i, username) in signers.iter().enumerate() {
        let official = person(conn, username);
        data["signers"][i]["name"] = official.full_name.clone().into();
        data["signers"][i]["nip"] = official.nip.clone().expect("a NIP").into();
        data["signers"][i]["position"] = official.position.clone().unwrap_or_default().into();
    }
    let letterhead = letters::letterhead_of(&office).expect("letterhead");
    let owner = store::Owner {
        office: office.id,
        request: None,
        actor: None,
    };
    let letter = store::create(
        conn,
        owner,
        &letterhead,
        kind,
        &data,
        &settings(),
        naskah::db::now(),
    )
    .expect("letter");
    number(conn, office.id, letter);
    letter
}

fn number(conn: &mut DbConn, office: OfficeId, letter: LetterId) {
    let secretary = person(conn, "banggai.sekretariat").id;
    let register = naskah::numbering::register_by_code(conn, office, "keluar").expect("register");
    // Today where the office is: a number dated the UTC day could come before one the demo's
    // own requests took on the office's (later) day, which the register refuses.
    let zone = naskah::office::find(conn, office).expect("office").zone();
    let date = naskah::numbering::local_date(chrono::Utc::now(), zone);
    naskah::numbering::issue(
        conn,
        register.id,
        letter,
        date,
        secretary,
        naskah::db::now(),
    )
    .expect("numbered");
    store::add_numbered_revision(conn, letter, secretary, &settings()).expect("numbered revision");
}

pub(crate) fn token(conn: &mut DbConn, username: &str) -> String {
    let id = person(conn, username).id;
    naskah::tokens::create(conn, id, "uji").expect("token")
}

/// POSTs `body` to `path` with `token`; returns the status and the JSON answer.
pub(crate) fn post(server: &Server, path: &str, token: &str, body: &Value) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(&format!("http://{}{path}", server.addr))
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .send(body.to_string().as_bytes())
        .expect("response");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn sign(
    server: &Server,
    token: &str,
    letter: LetterId,
    passphrase: &str,
    mode: &str,
) -> (u16, Value) {
    post(
        server,
        &format!("/api/v1/letters/{letter}/sign"),
        token,
        &serde_json::json!({ "passphrase": passphrase, "mode": mode }),
    )
}

/// The letter's newest PDF, written to `dir`.
fn newest_pdf(conn: &mut DbConn, letter: LetterId, dir: &std::path::Path) -> (String, Vec<u8>) {
    let (pdf, sha256): (Vec<u8>, String) = letter_revisions::table
        .filter(letter_revisions::letter_id.eq(letter))
        .order(letter_revisions::revision.desc())
        .select((letter_revisions::pdf, letter_revisions::sha256))
        .first(conn)
        .expect("a revision");
    assert_eq!(
        naskah::digest::sha256_hex(&pdf),
        sha256,
        "the stored SHA-256 is the PDF's"
    );
    let path = dir.join(format!("letter-{letter}.pdf"));
    std::fs::write(&path, &pdf).expect("write");
    (path.to_string_lossy().into_owned(), pdf)
}

pub(crate) fn status(conn: &mut DbConn, letter: LetterId) -> String {
    naskah::db::schema::letters::table
        .find(letter)
        .select(naskah::db::schema::letters::status)
        .first(conn)
        .expect("status")
}

pub(crate) fn server(
    db: &TestDb,
    extra: &[(&str, &str)],
    config: Option<&std::path::Path>,
) -> Server {
    let mut command = naskah(db.dir.path());
    command
        .env("NASKAH_DATABASE_URL", &db.url)
        .env("NASKAH_PKI_DIR", &pki().dir);
    for (name, value) in extra {
        command.env(name, value);
    }
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    command.args(["serve", "--bind", "127.0.0.1:0"]);
    Server::start(command)
}

pub(crate) fn setup(db: &TestDb) -> naskah::db::Db {
    let pool = db.open();
    let mut conn = pool.get().expect("connection");
    naskah::db::migrate::run_pending(&mut conn).expect("migrate");
    naskah::demo::create(&mut conn).expect("demo");
    pool
}

on_both_backends! {
    fn a_paraf_then_the_kadis_signature_through_the_api(db) {
        let pool = setup(db);
        let mut conn = pool.get().expect("connection");
        let letter = numbered_letter(&mut conn, LetterKind::SuratRekomendasi, &["banggai.kadis"]);
        let draft = {
            let office = naskah::office::find_by_code(&mut conn, "banggai").expect("q").expect("office");
            let letterhead = letters::letterhead_of(&office).expect("letterhead");
            let owner = store::Owner { office: office.id, request: None, actor: None };
            store::create(&mut conn, owner, &letterhead, LetterKind::SuratRekomendasi, &letters::sample(LetterKind::SuratRekomendasi), &settings(), naskah::db::now()).expect("draft")
        };
        let kadis = token(&mut conn, "banggai.kadis");
        let kabid = token(&mut conn, "banggai.kabid_egov");
        let tim = token(&mut conn, "banggai.tim_teknis");
        let stranger = token(&mut conn, "sumbar.kadis");
        drop(conn);
        let tsa = Tsa::start();
        let server = server(db, &[("NASKAH_TSA_URL", tsa.url.as_str()), ("NASKAH_SIGNATURE_LEVEL", "B-T")], None);
        let pass = |u: &str| passphrase(u);

        let (code, error) = sign(&server, &kadis, draft, &pass("banggai.kadis"), "signature");
        assert_eq!((code, error["error"]["code"].as_str()), (409, Some("conflict")), "a draft is numbered first: {error}");
        let (code, _) = sign(&server, &stranger, letter, &pass("sumbar.kadis"), "signature");
        assert_eq!(code, 404, "another office's letter is not found");
        let (code, error) = sign(&server, &tim, letter, &pass("banggai.tim_teknis"), "signature");
        assert_eq!((code, error["error"]["code"].as_str()), (403, Some("forbidden")), "{error}");

        let (code, paraf) = sign(&server, &kabid, letter, &pass("banggai.kabid_egov"), "paraf");
        assert_eq!(code, 201, "{paraf}");
        assert_eq!(paraf["complete"], false);
        let (code, signed) = sign(&server, &kadis, letter, &pass("banggai.kadis"), "signature");
        assert_eq!(code, 201, "{signed}");
        assert_eq!((signed["field"].as_str(), signed["complete"].as_bool()), (Some("TTE-1"), Some(true)));
        let (code, _) = sign(&server, &kadis, letter, &pass("banggai.kadis"), "signature");
        assert_eq!(code, 409, "signed once");
        let (code, _) = sign(&server, &tim, letter, &pass("banggai.tim_teknis"), "paraf");
        assert_eq!(code, 403, "no paraf after the signature");
        let (_, stderr) = server.terminate();
        for official in ["banggai.kadis", "banggai.kabid_egov"] {
            assert!(!stderr.contains(&pass(official)), "a passphrase reached the log");
        }

        let mut conn = pool.get().expect("connection");
        assert_eq!(status(&mut conn, letter), "signed");
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, pdf) = newest_pdf(&mut conn, letter, dir.path());
        assert_valid(&path, 2);
        let (_, lines) = pyhanko_validate(&path);
        assert!(lines.contains("Paraf-banggai-kabid_egov:") && lines.contains("TTE-1:"), "{lines}");
        assert_eq!(lines.matches("TIMESTAMP_TOKEN<INTACT:TRUSTED>").count(), 2, "B-T as configured: {lines}");
        // Every revision begins with the one before: nothing was rewritten.
        let revisions = store::revisions(&mut conn, letter).expect("revisions");
        for pair in revisions.windows(2).skip(1) {
            assert!(pair[1].pdf.starts_with(&pair[0].pdf), "revision {} rewrites {}", pair[1].revision, pair[0].revision);
        }
        assert_eq!(revisions.last().map(|r| r.pdf.len()), Some(pdf.len()));
        let kinds: Vec<String> = letter_signatures::table.filter(letter_signatures::letter_id.eq(letter)).order(letter_signatures::revision).select(letter_signatures::kind).load(&mut conn).expect("signatures");
        assert_eq!(kinds, ["paraf", "signature"]);
        assert!(naskah::audit::verify(&mut conn).expect("verify").is_empty());
    }

    fn many_letters_are_signed_at_once_with_their_progress_followed(db) {
        let pool = setup(db);
        let mut conn = pool.get().expect("connection");
        let letters: Vec<LetterId> = (0..4)
            .map(|_| numbered_letter(&mut conn, LetterKind::SuratRekomendasi, &["banggai.kadis"]))
            .collect();
        let kadis = token(&mut conn, "banggai.kadis");
        let kabid = token(&mut conn, "banggai.kabid_egov");
        drop(conn);
        let server = server(db, &[], None);
        let job_of = |token: &str, job: i64| -> (u16, Value) {
            let (status, text) = crate::common::get_with(&format!("http://{}/api/v1/jobs/{job}", server.addr), token);
            (status, serde_json::from_str(&text).unwrap_or(Value::Null))
        };
        let follow = |job: i64| -> Value {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
            loop {
                let (status, job) = job_of(&kadis, job);
                assert_eq!(status, 200, "{job}");
                if job["status"] != "running" {
                    return job;
                }
                assert!(std::time::Instant::now() < deadline, "{job}");
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        };
        let ids: Vec<i64> = letters.iter().map(|l| l.0).collect();

        // A wrong passphrase stops the job at its first letter; nothing is signed.
        let (code, started) = post(&server, "/api/v1/signing-jobs", &kadis, &serde_json::json!({ "passphrase": "bukan-ini", "letters": ids }));
        assert_eq!(code, 202, "{started}");
        let job = follow(started["job"].as_i64().expect("a job"));
        assert_eq!((job["status"].as_str(), job["done"].as_i64(), job["failed"].as_i64()), (Some("stopped"), Some(0), Some(1)), "{job}");
        assert!(job["message"].as_str().is_some_and(|m| m.contains("passphrase salah")), "{job}");

        // The right one signs all four, one by one; the job tells each outcome.
        let (code, started) = post(&server, "/api/v1/signing-jobs", &kadis, &serde_json::json!({ "passphrase": passphrase("banggai.kadis"), "letters": ids }));
        assert_eq!(code, 202, "{started}");
        let id = started["job"].as_i64().expect("a job");
        let job = follow(id);
        assert_eq!((job["status"].as_str(), job["done"].as_i64(), job["total"].as_i64()), (Some("finished"), Some(4), Some(4)), "{job}");
        assert!(job["outcomes"].as_array().is_some_and(|o| o.iter().all(|o| o["ok"] == true)));
        // Someone else learns nothing of it.
        assert_eq!(job_of(&kabid, id).0, 404);
        // Its page, as the kadis follows it in the browser.
        let cookie = |username: &str| {
            let mut conn = pool.get().expect("connection");
            let who = person(&mut conn, username).id;
            naskah::accounts::set_password(&mut conn, who, "kata-sandi-uji-1", None).expect("password");
            match naskah::accounts::sign_in(&mut conn, username, "kata-sandi-uji-1", "127.0.0.1", naskah::db::now()).expect("sign in") {
                naskah::accounts::SignIn::In(session) => format!("naskah_sesi={}", session.token),
                _ => panic!("{username} does not sign in"),
            }
        };
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let page = |cookie: &str| {
            let mut response = agent.get(&format!("http://{}/proses/{id}", server.addr)).header("Cookie", cookie).call().expect("page");
            (response.status().as_u16(), response.body_mut().read_to_string().unwrap_or_default())
        };
        let (code, body) = page(&cookie("banggai.kadis"));
        assert_eq!(code, 200);
        assert!(body.contains("Selesai: 4 ditandatangani, dari 4 surat.") && body.contains("value=\"100\""), "{body}");
        assert!(!body.contains("http-equiv=\"refresh\""), "a finished job's page stays still");
        assert_eq!(page(&cookie("banggai.kabid_egov")).0, 404);
        // One signing job at a time: while one runs (a row left running here), another is
        // refused; once it has not moved for ten minutes it no longer holds the next back.
        let held = {
            let mut conn = pool.get().expect("connection");
            let kadis_id = person(&mut conn, "banggai.kadis").id;
            naskah::jobs::start(&mut conn, kadis_id, naskah::jobs::SIGN_LETTERS, 1, naskah::db::now()).expect("a job")
        };
        let (code, refused) = post(&server, "/api/v1/signing-jobs", &kadis, &serde_json::json!({ "passphrase": passphrase("banggai.kadis"), "letters": ids }));
        assert_eq!(code, 409, "{refused}");
        {
            let mut conn = pool.get().expect("connection");
            let kadis_id = person(&mut conn, "banggai.kadis").id;
            let later = naskah::db::now() + chrono::TimeDelta::minutes(naskah::jobs::STALE_MINUTES + 1);
            assert!(!naskah::jobs::running(&mut conn, kadis_id, naskah::jobs::SIGN_LETTERS, later).expect("running"));
            naskah::jobs::end(&mut conn, held, Some("uji"), naskah::db::now()).expect("ended");
        }
        // Nothing left: signing "what waits" finds nothing to sign.
        let (code, refused) = post(&server, "/api/v1/signing-jobs", &kadis, &serde_json::json!({ "passphrase": passphrase("banggai.kadis") }));
        assert_eq!(code, 422, "{refused}");
        let (_, stderr) = server.terminate();
        assert!(!stderr.contains(&passphrase("banggai.kadis")), "a passphrase reached the log");

        let mut conn = pool.get().expect("connection");
        let dir = tempfile::tempdir().expect("tempdir");
        for letter in &letters {
            assert_eq!(status(&mut conn, *letter), "signed");
        }
        let (path, _) = newest_pdf(&mut conn, letters[3], dir.path());
        let out = crate::common::tool("pdfsig", &[&path]);
        assert!(String::from_utf8_lossy(&out.stdout).contains("Signature is Valid"), "{}", String::from_utf8_lossy(&out.stdout));
    }

    fn five_wrong_passphrases_lock_signing_for_fifteen_minutes(db) {
        let pool = setup(db);
        let mut conn = pool.get().expect("connection");
        let letter = numbered_letter(&mut conn, LetterKind::SuratTanggapanPersetujuan, &["banggai.kadis"]);
        let kadis = token(&mut conn, "banggai.kadis");
        drop(conn);
        let server = server(db, &[], None);
        for left in (1..=4).rev() {
            let (code, error) = sign(&server, &kadis, letter, "tebakan-salah-123", "signature");
            assert_eq!((code, error["error"]["code"].as_str()), (422, Some("wrong_passphrase")), "{error}");
            assert!(error["error"]["message"].as_str().unwrap_or_default().contains(&format!("{left} kali lagi")), "{error}");
        }
        let (code, error) = sign(&server, &kadis, letter, "tebakan-salah-123", "signature");
        assert_eq!((code, error["error"]["code"].as_str()), (423, Some("signing_locked")), "{error}");
        // Locked: even the right passphrase is refused, and nothing is signed.
        let (code, _) = sign(&server, &kadis, letter, &passphrase("banggai.kadis"), "signature");
        assert_eq!(code, 423);
        let (_, stderr) = server.terminate();
        assert!(!stderr.contains("tebakan-salah-123") && !stderr.contains(&passphrase("banggai.kadis")), "a passphrase reached the log");

        let mut conn = pool.get().expect("connection");
        assert_eq!(status(&mut conn, letter), "numbered");
        let kadis_id = person(&mut conn, "banggai.kadis").id;
        let actions: Vec<String> = naskah::db::schema::audit_log::table
            .filter(naskah::db::schema::audit_log::subject.eq(format!("person:{kadis_id}")))
            .order(naskah::db::schema::audit_log::id)
            .select(naskah::db::schema::audit_log::action)
            .load(&mut conn)
            .expect("audit");
        assert_eq!(actions.iter().filter(|a| *a == "signing.wrong_passphrase").count(), 4);
        assert_eq!(actions.last().map(String::as_str), Some("signing.locked"));
        let details: Vec<String> = naskah::db::schema::audit_log::table.select(naskah::db::schema::audit_log::detail).load(&mut conn).expect("audit");
        assert!(details.iter().all(|d| !d.contains("tebakan-salah-123")), "the audit log holds no passphrase");
        // Fifteen minutes on, the official signs.
        diesel::update(naskah::db::schema::attempts::table.find(("passphrase", format!("person:{kadis_id}"))))
            .set(naskah::db::schema::attempts::locked_until.eq(naskah::db::now() - chrono::Duration::seconds(1)))
            .execute(&mut conn)
            .expect("time passes");
        let tte = naskah::tte::Settings::local(pki().dir.clone(), settings());
        let signed = naskah::tte::sign_letter(&mut conn, &tte, letter, kadis_id, &passphrase("banggai.kadis"), naskah::tte::Mode::Signature).expect("signs");
        assert!(signed.complete);
    }

    fn both_parties_sign_a_berita_acara(db) {
        let pool = setup(db);
        let mut conn = pool.get().expect("connection");
        let letter = numbered_letter(&mut conn, LetterKind::BeritaAcaraSerahTerima, &["banggai.kabid_egov", "banggai.tim_teknis"]);
        let tte = naskah::tte::Settings::local(pki().dir.clone(), settings());
        let second = person(&mut conn, "banggai.tim_teknis").id;
        let first = person(&mut conn, "banggai.kabid_egov").id;
        let one = naskah::tte::sign_letter(&mut conn, &tte, letter, second, &passphrase("banggai.tim_teknis"), naskah::tte::Mode::Signature).expect("second party");
        assert_eq!((one.field.as_str(), one.complete), ("TTE-2", false));
        assert_eq!(status(&mut conn, letter), "numbered");
        let two = naskah::tte::sign_letter(&mut conn, &tte, letter, first, &passphrase("banggai.kabid_egov"), naskah::tte::Mode::Signature).expect("first party");
        assert_eq!((two.field.as_str(), two.complete), ("TTE-1", true));
        assert_eq!(status(&mut conn, letter), "signed");
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, _) = newest_pdf(&mut conn, letter, dir.path());
        assert_valid(&path, 2);
    }
}

/// The fake BSrE Esign Client Service: v1 and v2 signing and the status check, HTTP Basic
/// credentials, signing with the demo PKI's key of the official whose NIK is asked.
struct FakeBsre {
    addr: std::net::SocketAddr,
    handle: actix_web::dev::ServerHandle,
    /// The requests it received: (path, whether the passphrase was right).
    seen: Arc<Mutex<Vec<String>>>,
}

struct FakeState {
    /// NIK → (username, status).
    officials: Vec<(String, String, String)>,
    seen: Arc<Mutex<Vec<String>>>,
}

const FAKE_USER: &str = "naskah-app";
const FAKE_PASSWORD: &str = "rahasia-aplikasi";
const FAKE_TOTP: &str = "246810";

impl FakeBsre {
    fn start(officials: Vec<(String, String, String)>) -> FakeBsre {
        use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
        let seen = Arc::new(Mutex::new(Vec::new()));
        let state = web::Data::new(FakeState {
            officials,
            seen: seen.clone(),
        });
        let authorized = |request: &HttpRequest| {
            use base64::Engine;
            let expected = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD
                    .encode(format!("{FAKE_USER}:{FAKE_PASSWORD}"))
            );
            request
                .headers()
                .get("Authorization")
                .and_then(|v| v.to_str().ok())
                == Some(expected.as_str())
        };
        fn signed(
            state: &FakeState,
            nik: &str,
            passphrase: &str,
            pdf: &[u8],
            visible: Option<(u32, [f32; 4])>,
        ) -> HttpResponse {
            let Some((_, username, _)) = state.officials.iter().find(|(n, _, _)| n == nik) else {
                return HttpResponse::BadRequest().json(serde_json::json!({ "error": "Penandatangan tidak terdaftar", "status_code": 2011 }));
            };
            let der = std::fs::read(p12(username)).expect("p12");
            let Ok(key) = naskah::signing::SigningKey::from_pkcs12(&der, passphrase) else {
                return HttpResponse::BadRequest().json(
                    serde_json::json!({ "error": "Passphrase anda salah", "status_code": 2031 }),
                );
            };
            let options = naskah::signing::Options {
                page: visible.map_or(1, |(p, _)| p),
                rect: visible.map(|(_, [x, y, width, height])| naskah::signing::Rect {
                    x,
                    y,
                    width,
                    height,
                }),
                certify: false,
                reason: Some("BSrE"),
                location: None,
                field_name: None,
                signed_at: chrono::Utc::now(),
                reserve: Vec::new(),
            };
            match naskah::signing::sign(
                pdf,
                &key,
                &options,
                naskah::signing::Level::BB,
                None,
                &Default::default(),
            ) {
                Ok(bytes) => HttpResponse::Ok()
                    .content_type("application/pdf")
                    .body(bytes),
                Err(e) => HttpResponse::InternalServerError()
                    .json(serde_json::json!({ "error": e.to_string() })),
            }
        }
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .app_data(web::PayloadConfig::new(64 << 20))
                .app_data(web::JsonConfig::default().limit(64 << 20))
                .route(
                    "/api/v2/user/check/status",
                    web::post().to(
                        move |request: HttpRequest,
                              state: web::Data<FakeState>,
                              body: web::Json<Value>| async move {
                            if !authorized(&request) {
                                return HttpResponse::Unauthorized().finish();
                            }
                            state.seen.lock().expect("lock").push("status".into());
                            let nik = body["nik"].as_str().unwrap_or_default();
                            let status = state
                                .officials
                                .iter()
                                .find(|(n, _, _)| n == nik)
                                .map_or("NOT_REGISTERED", |(_, _, s)| s.as_str());
                            HttpResponse::Ok().json(serde_json::json!({ "status": status }))
                        },
                    ),
                )
                .route(
                    "/api/v2/sign/get/totp",
                    web::post().to(
                        move |request: HttpRequest, state: web::Data<FakeState>| async move {
                            if !authorized(&request) {
                                return HttpResponse::Unauthorized().finish();
                            }
                            state.seen.lock().expect("lock").push("totp".into());
                            HttpResponse::Ok()
                                .json(serde_json::json!({ "message": "OTP dikirim ke email" }))
                        },
                    ),
                )
                .route(
                    "/api/sign/pdf",
                    web::post().to(
                        move |request: HttpRequest,
                              state: web::Data<FakeState>,
                              body: web::Bytes| async move {
                            if !authorized(&request) {
                                return HttpResponse::Unauthorized().finish();
                            }
                            state.seen.lock().expect("lock").push("v1".into());
                            let content_type = request
                                .headers()
                                .get("Content-Type")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or_default()
                                .to_owned();
                            let parts = multipart(&content_type, &body);
                            let text = |name: &str| {
                                parts
                                    .iter()
                                    .find(|(n, _)| n == name)
                                    .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
                                    .unwrap_or_default()
                            };
                            let file = parts
                                .iter()
                                .find(|(n, _)| n == "file")
                                .map(|(_, v)| v.clone())
                                .unwrap_or_default();
                            let visible = (text("tampilan") == "visible").then(|| {
                                let number = |name: &str| text(name).parse::<f32>().unwrap_or(0.0);
                                (
                                    text("page").parse().unwrap_or(1),
                                    [
                                        number("xAxis"),
                                        number("yAxis"),
                                        number("width"),
                                        number("height"),
                                    ],
                                )
                            });
                            signed(&state, &text("nik"), &text("passphrase"), &file, visible)
                        },
                    ),
                )
                .route(
                    "/api/v2/sign/pdf",
                    web::post().to(
                        move |request: HttpRequest,
                              state: web::Data<FakeState>,
                              body: web::Json<Value>| async move {
                            use base64::Engine;
                            if !authorized(&request) {
                                return HttpResponse::Unauthorized().finish();
                            }
                            state.seen.lock().expect("lock").push("v2".into());
                            let engine = base64::engine::general_purpose::STANDARD;
                            let file = engine
                                .decode(body["file"][0].as_str().unwrap_or_default())
                                .unwrap_or_default();
                            let properties = &body["signatureProperties"][0];
                            let visible = (properties["tampilan"] == "VISIBLE").then(|| {
                                let number =
                                    |name: &str| properties[name].as_f64().unwrap_or(0.0) as f32;
                                (
                                    properties["page"].as_u64().unwrap_or(1) as u32,
                                    [
                                        number("originX"),
                                        number("originY"),
                                        number("width"),
                                        number("height"),
                                    ],
                                )
                            });
                            let nik = body["nik"].as_str().unwrap_or_default();
                            // A one-time code stands for the passphrase the service keeps.
                            let secret = match body["totp"].as_str() {
                                Some(FAKE_TOTP) => state
                                    .officials
                                    .iter()
                                    .find(|(n, _, _)| n == nik)
                                    .map(|(_, u, _)| passphrase(u))
                                    .unwrap_or_default(),
                                Some(_) => {
                                    return HttpResponse::BadRequest()
                                        .json(serde_json::json!({ "error": "Kode OTP salah" }));
                                }
                                None => body["passphrase"].as_str().unwrap_or_default().to_owned(),
                            };
                            let answer = signed(&state, nik, &secret, &file, visible);
                            if answer.status() != 200 {
                                return answer;
                            }
                            let bytes = actix_web::body::to_bytes(answer.into_body())
                                .await
                                .unwrap_or_default();
                            HttpResponse::Ok()
                                .json(serde_json::json!({ "file": [engine.encode(bytes)] }))
                        },
                    ),
                )
        })
        .workers(1)
        .bind("127.0.0.1:0")
        .expect("bind");
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        std::thread::spawn(move || actix_web::rt::System::new().block_on(server));
        FakeBsre { addr, handle, seen }
    }
}

impl Drop for FakeBsre {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// The parts of a multipart/form-data body: (name, bytes).
fn multipart(content_type: &str, body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let Some(boundary) = content_type.split("boundary=").nth(1) else {
        return Vec::new();
    };
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut rest = body;
    while let Some(start) = find(rest, delimiter.as_bytes()) {
        rest = &rest[start + delimiter.len()..];
        if rest.starts_with(b"--") {
            break;
        }
        let Some(head_end) = find(rest, b"\r\n\r\n") else {
            break;
        };
        let head = String::from_utf8_lossy(&rest[..head_end]).into_owned();
        let content = &rest[head_end + 4..];
        let Some(end) = find(content, delimiter.as_bytes()) else {
            break;
        };
        let name = head
            .split("name=\"")
            .nth(1)
            .and_then(|n| n.split('"').next())
            .unwrap_or_default()
            .to_owned();
        parts.push((name, content[..end - 2].to_vec()));
        rest = &content[end..];
    }
    parts
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn set_nik(conn: &mut DbConn, username: &str, nik: &str) -> PersonId {
    diesel::update(people::table.filter(people::username.eq(username)))
        .set(people::nik.eq(nik))
        .execute(conn)
        .expect("nik");
    person(conn, username).id
}

#[test]
fn bsre_signs_through_its_api_and_its_refusals_leave_the_letter_unsigned() {
    let db = TestDb::new(crate::common::Backend::Sqlite);
    let pool = setup(&db);
    let mut conn = pool.get().expect("connection");
    let kadis_nik = "7201010101800001";
    let kabid_nik = "7201010101800002";
    set_nik(&mut conn, "banggai.kadis", kadis_nik);
    set_nik(&mut conn, "banggai.kabid_egov", kabid_nik);
    let first = numbered_letter(&mut conn, LetterKind::SuratRekomendasi, &["banggai.kadis"]);
    let second = numbered_letter(
        &mut conn,
        LetterKind::SuratTanggapanPersetujuan,
        &["banggai.kadis"],
    );
    let expired = numbered_letter(
        &mut conn,
        LetterKind::SuratTanggapanPenolakan,
        &["banggai.kabid_egov"],
    );
    let with_totp = numbered_letter(
        &mut conn,
        LetterKind::SuratPemberitahuanHosting,
        &["banggai.kadis"],
    );
    let kadis = token(&mut conn, "banggai.kadis");
    let kabid = token(&mut conn, "banggai.kabid_egov");
    drop(conn);

    let fake = FakeBsre::start(vec![
        (kadis_nik.into(), "banggai.kadis".into(), "ISSUE".into()),
        (
            kabid_nik.into(),
            "banggai.kabid_egov".into(),
            "EXPIRED".into(),
        ),
    ]);
    let config_for = |api: &str, url: &str| {
        let path = db.dir.path().join(format!("naskah-{api}.toml"));
        std::fs::write(&path, format!("[bsre]\nurl = \"{url}\"\nusername = \"{FAKE_USER}\"\npassword_env = \"BSRE_PASSWORD\"\napi = \"{api}\"\nofficials = [\"banggai.kadis\", \"banggai.kabid_egov\"]\ntimeout_seconds = 5\n")).expect("config");
        path
    };
    let url = format!("http://{}", fake.addr);
    let env = [("BSRE_PASSWORD", FAKE_PASSWORD)];

    // v1: a wrong passphrase is the service's to judge, and counts; then the letter is signed.
    let v1 = server(&db, &env, Some(&config_for("v1", &url)));
    let (code, error) = sign(&v1, &kadis, first, "salah-sekali", "signature");
    assert_eq!(
        (code, error["error"]["code"].as_str()),
        (422, Some("wrong_passphrase")),
        "{error}"
    );
    let (code, signed) = sign(
        &v1,
        &kadis,
        first,
        &passphrase("banggai.kadis"),
        "signature",
    );
    assert_eq!(code, 201, "{signed}");
    // A certificate not in status ISSUE is refused in words, before any signing.
    let (code, error) = sign(
        &v1,
        &kabid,
        expired,
        &passphrase("banggai.kabid_egov"),
        "signature",
    );
    assert_refused(code, &error, 409, "certificate_unusable", "kedaluwarsa");
    let (_, stderr) = v1.terminate();
    assert!(
        !stderr.contains(FAKE_PASSWORD) && !stderr.contains(&passphrase("banggai.kadis")),
        "a secret reached the log"
    );

    // v2, JSON.
    let v2 = server(&db, &env, Some(&config_for("v2", &url)));
    let (code, signed) = sign(
        &v2,
        &kadis,
        second,
        &passphrase("banggai.kadis"),
        "signature",
    );
    assert_eq!(code, 201, "{signed}");
    // Or with a one-time code the service e-mails: asked for, then given instead.
    let (code, sent) = post(
        &v2,
        &format!("/api/v1/letters/{with_totp}/sign/totp"),
        &kadis,
        &Value::Null,
    );
    assert_eq!(code, 202, "{sent}");
    let by_code = |code: &str| {
        post(
            &v2,
            &format!("/api/v1/letters/{with_totp}/sign"),
            &kadis,
            &serde_json::json!({ "totp": code }),
        )
    };
    let (code, error) = by_code("000000");
    assert_eq!(
        (code, error["error"]["code"].as_str()),
        (422, Some("wrong_passphrase")),
        "{error}"
    );
    let (code, signed) = by_code(FAKE_TOTP);
    assert_eq!(code, 201, "{signed}");
    let (code, error) = post(
        &v2,
        &format!("/api/v1/letters/{first}/sign"),
        &kadis,
        &serde_json::json!({ "totp": FAKE_TOTP, "passphrase": "x" }),
    );
    assert_eq!(code, 422, "one credential, not two: {error}");
    drop(v2);
    let seen = fake.seen.lock().expect("lock").clone();
    assert!(
        seen.contains(&"v1".to_owned()) && seen.contains(&"v2".to_owned()),
        "{seen:?}"
    );
    assert_eq!(
        seen.iter().filter(|s| *s == "status").count(),
        6,
        "the status is asked before every signing: {seen:?}"
    );
    assert!(seen.contains(&"totp".to_owned()), "{seen:?}");

    // A service that does not answer: the letter stays unsigned, and the official is told.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
    let nowhere = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let mut conn = pool.get().expect("connection");
    let third = numbered_letter(&mut conn, LetterKind::SuratRekomendasi, &["banggai.kadis"]);
    drop(conn);
    let down = server(&db, &env, Some(&config_for("v1", &nowhere)));
    let (code, error) = sign(
        &down,
        &kadis,
        third,
        &passphrase("banggai.kadis"),
        "signature",
    );
    assert_refused(
        code,
        &error,
        502,
        "service_unavailable",
        "tidak dapat dihubungi",
    );
    drop(down);

    let mut conn = pool.get().expect("connection");
    assert_eq!(status(&mut conn, first), "signed");
    assert_eq!(status(&mut conn, second), "signed");
    assert_eq!(status(&mut conn, expired), "numbered");
    assert_eq!(status(&mut conn, third), "numbered");
    let dir = tempfile::tempdir().expect("tempdir");
    assert_eq!(status(&mut conn, with_totp), "signed");
    for letter in [first, second, with_totp] {
        let (path, _) = newest_pdf(&mut conn, letter, dir.path());
        assert_valid(&path, 1);
        let level: String = letter_signatures::table
            .filter(letter_signatures::letter_id.eq(letter))
            .select(letter_signatures::signer)
            .first(&mut conn)
            .expect("signature");
        assert_eq!(level, "bsre");
    }
}

#[test]
fn ltv_refresh_restamps_letters_whose_time_stamp_nears_its_expiry() {
    let db = TestDb::new(crate::common::Backend::Sqlite);
    let pool = setup(&db);
    let mut conn = pool.get().expect("connection");
    let lta = numbered_letter(&mut conn, LetterKind::SuratRekomendasi, &["banggai.kadis"]);
    let plain = numbered_letter(
        &mut conn,
        LetterKind::SuratTanggapanPersetujuan,
        &["banggai.kadis"],
    );
    let tsa = Tsa::start();
    let kadis = person(&mut conn, "banggai.kadis").id;
    let crls: Vec<Vec<u8>> = [
        naskah::signing::pki::INTERMEDIATE_CRL,
        naskah::signing::pki::ROOT_CRL,
    ]
    .iter()
    .map(|f| std::fs::read(pki().dir.join(f)).expect("crl"))
    .collect();
    let mut tte = naskah::tte::Settings::local(pki().dir.clone(), settings());
    tte.level = naskah::signing::Level::BLTA;
    tte.time_stamper = Some(naskah::signing::tsa::TimeStamper::new(&tsa.url));
    tte.crls = crls;
    naskah::tte::sign_letter(
        &mut conn,
        &tte,
        lta,
        kadis,
        &passphrase("banggai.kadis"),
        naskah::tte::Mode::Signature,
    )
    .expect("B-LTA");
    naskah::tte::sign_letter(
        &mut conn,
        &naskah::tte::Settings::local(pki().dir.clone(), settings()),
        plain,
        kadis,
        &passphrase("banggai.kadis"),
        naskah::tte::Mode::Signature,
    )
    .expect("B-B");
    let before = store::revisions(&mut conn, lta).expect("revisions");
    drop(conn);

    let refresh = |days: &str, tsa_url: Option<&str>| {
        let mut command = naskah(db.dir.path());
        command
            .env("NASKAH_DATABASE_URL", &db.url)
            .env("NASKAH_PKI_DIR", &pki().dir);
        if let Some(url) = tsa_url {
            command.env("NASKAH_TSA_URL", url);
        }
        let output = command
            .args(["ltv", "refresh", "--within-days", days])
            .output()
            .expect("run");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, _, stderr) = refresh("90", None);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("NASKAH_TSA_URL"), "{stderr}");
    // The demo authority's certificate holds two years: not yet near.
    let (code, stdout, stderr) = refresh("90", Some(&tsa.url));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(stdout.trim(), "0 letter(s) re-stamped, 0 failed");
    // Within 800 days it is: the B-LTA letter is re-stamped, the B-B one has nothing to renew.
    let (code, stdout, stderr) = refresh("800", Some(&tsa.url));
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stdout.starts_with(&format!(
            "letter {lta}: re-stamped as revision {}",
            before.len() + 1
        )),
        "{stdout}"
    );
    assert!(
        stdout
            .trim_end()
            .ends_with("1 letter(s) re-stamped, 0 failed"),
        "{stdout}"
    );
    drop(tsa);

    let mut conn = pool.get().expect("connection");
    let after = store::revisions(&mut conn, lta).expect("revisions");
    assert_eq!(after.len(), before.len() + 1);
    let newest = after.last().expect("newest");
    assert_eq!(newest.purpose, "timestamp");
    assert!(
        newest.pdf.starts_with(&before.last().expect("before").pdf),
        "the renewal rewrote the letter"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("renewed.pdf");
    std::fs::write(&path, &newest.pdf).expect("write");
    let path = path.to_string_lossy().into_owned();
    let root = pki()
        .dir
        .join(naskah::signing::pki::ROOT_CERT)
        .to_string_lossy()
        .into_owned();
    let output = crate::common::tool(
        "pyhanko",
        &[
            "sign",
            "adesverify",
            "--trust",
            &root,
            "--trust-replace",
            &path,
        ],
    );
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let (ok, lines) = pyhanko_validate(&path);
    assert!(ok, "{lines}");
    assert_eq!(
        newest
            .pdf
            .windows(12)
            .filter(|w| *w == b"ETSI.RFC3161")
            .count(),
        2,
        "two document time-stamps"
    );
}

#[test]
fn the_demo_signs_at_b_lt_with_its_own_time_stamp_authority() {
    let db = TestDb::new(crate::common::Backend::Sqlite);
    let mut command = naskah(db.dir.path());
    command
        .env("NASKAH_DATABASE_URL", &db.url)
        .args(["serve", "--bind", "127.0.0.1:0", "--demo"]);
    let server = Server::start(command);
    let pki_dir = db.dir.path().join("pki");
    let passphrase = naskah::signing::pki::passphrase_of(
        &pki_dir,
        &naskah::signing::pki::official_p12("banggai.kadis"),
    )
    .expect("the demo PKI in the data directory");
    let pool = db.open();
    let mut conn = pool.get().expect("connection");
    let letter = numbered_letter(&mut conn, LetterKind::SuratRekomendasi, &["banggai.kadis"]);
    let kadis = token(&mut conn, "banggai.kadis");
    let (code, signed) = sign(&server, &kadis, letter, &passphrase, "signature");
    assert_eq!(code, 201, "{signed}");
    let level: String = letter_signatures::table
        .filter(letter_signatures::letter_id.eq(letter))
        .select(letter_signatures::level)
        .first(&mut conn)
        .expect("signature");
    assert_eq!(level, "B-LT");
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, pdf) = newest_pdf(&mut conn, letter, dir.path());
    let root = pki_dir
        .join(naskah::signing::pki::ROOT_CERT)
        .to_string_lossy()
        .into_owned();
    let output = crate::signing::pyhanko_output(&root, &path);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && text.contains("TIMESTAMP_TOKEN<INTACT:TRUSTED>"),
        "{text}"
    );
    assert!(pdf.windows(4).any(|w| w == b"/DSS"), "B-LT carries a DSS");
    drop(server);
    // The authority ran inside the server: with it gone, the letter still validates offline.
    let output = crate::common::tool(
        "pyhanko",
        &[
            "sign",
            "adesverify",
            "--trust",
            &root,
            "--trust-replace",
            &path,
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
}
