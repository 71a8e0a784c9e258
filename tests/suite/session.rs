//! Signing in as people rely on it: the session cookie is HttpOnly, Secure and SameSite; a
//! form without its CSRF token is refused; what is typed into a field comes back inert; a
//! session ends at sign-out; repeated failed sign-ins make the account wait.

use crate::common::{Server, naskah, on_both_backends};

const PASSWORD: &str = "rahasia-kadis-2026";

struct Answer {
    status: u16,
    cookies: Vec<String>,
    location: String,
    body: String,
}

fn send(server: &Server, method: &str, path: &str, cookie: &str, form: &[(&str, &str)]) -> Answer {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let url = format!("http://{}{path}", server.addr);
    let response = match method {
        "GET" => agent.get(&url).header("Cookie", cookie).call(),
        _ => {
            let body: String = form
                .iter()
                .map(|(k, v)| format!("{k}={}", encode(v)))
                .collect::<Vec<_>>()
                .join("&");
            agent
                .post(&url)
                .header("Cookie", cookie)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .send(body.as_bytes())
        }
    };
    let mut response = response.expect("response");
    let header = |name: &str| -> Vec<String> {
        response
            .headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    };
    let cookies = header("set-cookie");
    let location = header("location").into_iter().next().unwrap_or_default();
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    Answer {
        status,
        cookies,
        location,
        body,
    }
}

/// Any request with `headers` and `body`; returns the status and the answer's text.
fn raw(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("http://{}{path}", server.addr);
    let response = if method == "GET" {
        let mut request = agent.get(&url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.call()
    } else {
        let mut request = agent.post(&url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send(body)
    };
    let mut response = response.expect("response");
    (
        response.status().as_u16(),
        response.body_mut().read_to_string().unwrap_or_default(),
    )
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The value of cookie `name` among `Set-Cookie` lines, and the line.
fn set_cookie<'a>(answer: &'a Answer, name: &str) -> (String, &'a str) {
    let line = answer
        .cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {:?}", answer.cookies));
    let value = line[name.len() + 1..]
        .split(';')
        .next()
        .unwrap_or_default()
        .to_owned();
    (value, line)
}

/// The hidden CSRF field of a page.
fn csrf_of(body: &str) -> String {
    let at = body.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    body[at..at + 64].to_owned()
}

on_both_backends! {
    fn signing_in_and_out_in_the_browser(db) {
        let pool = db.open();
        let mut conn = pool.get().expect("connection");
        naskah::db::migrate::run_pending(&mut conn).expect("migrate");
        naskah::demo::create(&mut conn).expect("demo");
        let kadis = naskah::people::find_by_username(&mut conn, "banggai.kadis").expect("q").expect("kadis");
        // Set as an administrator would: from the environment, never a flag.
        let set = |password: &str| {
            naskah(db.dir.path())
                .env("NASKAH_DATABASE_URL", &db.url)
                .env("NEW_PASSWORD", password)
                .args(["password", "--user", "banggai.kadis", "--password-env", "NEW_PASSWORD"])
                .output()
                .expect("naskah password")
        };
        let short = set("pendek");
        assert_eq!(short.status.code(), Some(2), "{short:?}");
        assert!(String::from_utf8_lossy(&short.stderr).contains("minimal 10 karakter"));
        assert!(set(PASSWORD).status.success());
        let stored: Option<String> = {
            use diesel::prelude::*;
            naskah::db::schema::people::table
                .find(kadis.id)
                .select(naskah::db::schema::people::password_hash)
                .first(&mut *conn)
                .expect("hash")
        };
        assert!(stored.as_deref().is_some_and(|h| h.starts_with("$argon2id$") && !h.contains(PASSWORD)));
        // Something for the home page: a request (its name typed with markup) and a message.
        let applicant_token;
        {
            use diesel::prelude::*;
            let office = naskah::office::find_by_code(&mut conn, "banggai").expect("q").expect("office");
            let (_, sop) = naskah::workflow::current_sop(&mut conn, office.id).expect("sop");
            let role = sop.roles.iter().find(|r| r.applicant).expect("applicant").id.clone();
            let applicant = naskah::people::find_by_username(&mut conn, &format!("banggai.{role}"))
                .expect("q")
                .expect("applicant")
                .id;
            applicant_token = naskah::tokens::create(&mut conn, applicant, "uji").expect("token");
            naskah::workflow::file_request(
                &mut conn,
                office.id,
                applicant,
                &naskah::workflow::NewRequest {
                    organization: "Dinas Kesehatan",
                    application_name: "<b>SIMPUS</b>",
                    subdomain: Some("simpus"),
                    application_type: Some("aplikasi web"),
                },
                chrono::Utc::now(),
            )
            .expect("filed");
            diesel::insert_into(naskah::db::schema::inbox::table)
                .values((
                    naskah::db::schema::inbox::person_id.eq(kadis.id),
                    naskah::db::schema::inbox::kind.eq("report.sla"),
                    naskah::db::schema::inbox::subject.eq("Laporan SLA Layanan Hosting Periode uji"),
                    naskah::db::schema::inbox::created_at.eq(naskah::db::now()),
                ))
                .execute(&mut *conn)
                .expect("inbox");
        }
        drop(conn);
        let mut command = naskah(db.dir.path());
        command.env("NASKAH_DATABASE_URL", &db.url).args(["serve", "--bind", "127.0.0.1:0"]);
        let server = Server::start(command);

        let form = send(&server, "GET", "/masuk", "", &[]);
        assert_eq!(form.status, 200);
        let (token, line) = set_cookie(&form, "naskah_masuk");
        assert!(line.contains("HttpOnly") && line.contains("Secure") && line.contains("SameSite=Strict"), "{line}");
        assert_eq!(csrf_of(&form.body), token);
        let signin_cookie = format!("naskah_masuk={token}");

        // Without the form's token: refused.
        let refused = send(&server, "POST", "/masuk", &signin_cookie, &[("username", "banggai.kadis"), ("password", PASSWORD)]);
        assert_eq!(refused.status, 403);
        assert!(refused.cookies.iter().all(|c| !c.starts_with("naskah_sesi=")));

        // Markup typed into a field comes back inert.
        let typed = send(&server, "POST", "/masuk", &signin_cookie, &[("username", "<script>alert(1)</script>"), ("password", "salah-sekali"), ("csrf", &token)]);
        assert_eq!(typed.status, 401);
        assert!(!typed.body.contains("<script>alert(1)") && typed.body.contains("alert(1)"), "{}", typed.body);

        // Signed in: a session cookie with its flags.
        let signed = send(&server, "POST", "/masuk", &signin_cookie, &[("username", "banggai.kadis"), ("password", PASSWORD), ("csrf", &token)]);
        assert_eq!((signed.status, signed.location.as_str()), (303, "/beranda"));
        let (session, line) = set_cookie(&signed, "naskah_sesi");
        assert!(line.contains("HttpOnly") && line.contains("Secure") && line.contains("SameSite=Lax") && line.contains("Max-Age=43200"), "{line}");
        let session_cookie = format!("naskah_sesi={session}");
        let home = send(&server, "GET", "/beranda", &session_cookie, &[]);
        assert_eq!(home.status, 200);
        assert!(home.body.contains(&format!("Selamat datang, {}", kadis.full_name)), "{}", home.body);
        assert!(home.body.contains("Laporan SLA Layanan Hosting Periode uji"), "{}", home.body);
        assert!(
            home.body.contains("SIMPUS") && !home.body.contains("<b>SIMPUS</b>") && home.body.contains("langkah 1"),
            "{}",
            home.body
        );
        let csrf = csrf_of(&home.body);

        // The API answers the session too; what changes something needs the session's token
        // in X-CSRF-Token, and a page's form needs it in the form.
        let (status, listed) = raw(&server, "GET", "/api/v1/requests", &[("Cookie", &session_cookie)], b"");
        assert_eq!(status, 200);
        assert!(listed.contains("<b>SIMPUS</b>"), "{listed}");
        let record = br#"{"item":"subdomain","value":"simpus.banggaikab.go.id"}"#;
        let json = ("Content-Type", "application/json");
        let (status, body) = raw(&server, "POST", "/api/v1/requests/1/records", &[("Cookie", &session_cookie), json], record);
        assert_eq!(status, 403, "{body}");
        assert!(body.contains("\"csrf\""), "{body}");
        let (status, body) = raw(&server, "POST", "/api/v1/requests/1/records", &[("Cookie", &session_cookie), json, ("X-CSRF-Token", &csrf)], record);
        assert_eq!(status, 204, "{body}");
        assert_eq!(send(&server, "POST", "/permohonan/1/langkah", &session_cookie, &[("step", "1")]).status, 403);
        // Attachments: a PDF, at most 20 MB.
        let bearer = format!("Bearer {applicant_token}");
        let upload = |bytes: &[u8]| raw(&server, "POST", "/api/v1/requests/1/attachments/manual_book", &[("Authorization", &bearer)], bytes);
        assert_eq!(upload(b"<html>bukan PDF</html>").0, 422);
        assert_eq!(upload(&vec![b'%'; 21 << 20]).0, 413);
        // A file that merely starts like a PDF is not one; a real one is attached.
        assert_eq!(upload(b"%PDF-1.7\n%%EOF\n").0, 422);
        assert_eq!(upload(&crate::signing::sample(naskah::letters::LetterKind::SuratPermohonan)).0, 204);

        // Sign-out without the session's token is refused; with it, the session ends.
        assert_eq!(send(&server, "POST", "/keluar", &session_cookie, &[]).status, 403);
        assert_eq!(send(&server, "GET", "/beranda", &session_cookie, &[]).status, 200);
        let out = send(&server, "POST", "/keluar", &session_cookie, &[("csrf", &csrf)]);
        assert_eq!((out.status, out.location.as_str()), (303, "/masuk"));
        assert!(set_cookie(&out, "naskah_sesi").1.contains("Max-Age=0"));
        let after = send(&server, "GET", "/beranda", &session_cookie, &[]);
        assert_eq!((after.status, after.location.as_str()), (303, "/masuk"));

        // Five wrong passwords in a row: the sixth attempt waits, even with the right one.
        for _ in 0..5 {
            let wrong = send(&server, "POST", "/masuk", &signin_cookie, &[("username", "banggai.kadis"), ("password", "bukan-kata-sandinya"), ("csrf", &token)]);
            assert_eq!(wrong.status, 401);
        }
        let waiting = send(&server, "POST", "/masuk", &signin_cookie, &[("username", "banggai.kadis"), ("password", PASSWORD), ("csrf", &token)]);
        assert_eq!(waiting.status, 429, "{}", waiting.body);
        assert!(waiting.body.contains("Terlalu banyak percobaan masuk"), "{}", waiting.body);
        assert!(waiting.cookies.iter().all(|c| !c.starts_with("naskah_sesi=")));
    }
}

#[test]
fn the_demo_front_page_lists_accounts_that_sign_in() {
    let db = crate::common::TestDb::new(crate::common::Backend::Sqlite);
    let mut command = naskah(db.dir.path());
    command
        .env("NASKAH_DATABASE_URL", &db.url)
        .env("NASKAH_PKI_DIR", &crate::signing::pki().dir)
        .args(["serve", "--demo", "--bind", "127.0.0.1:0"]);
    let server = Server::start(command);
    let front = send(&server, "GET", "/", "", &[]);
    assert_eq!(front.status, 200);
    for member in naskah::demo::members().expect("members") {
        let password = naskah::demo::password_of(&member.username);
        assert!(
            front.body.contains(&member.username) && front.body.contains(&password),
            "{}",
            member.username
        );
    }
    // A listed account signs in with its listed password.
    let form = send(&server, "GET", "/masuk", "", &[]);
    let (token, _) = set_cookie(&form, "naskah_masuk");
    let signed = send(
        &server,
        "POST",
        "/masuk",
        &format!("naskah_masuk={token}"),
        &[
            ("username", "sumbar.helpdesk"),
            ("password", &naskah::demo::password_of("sumbar.helpdesk")),
            ("csrf", &token),
        ],
    );
    assert_eq!((signed.status, signed.location.as_str()), (303, "/beranda"));
    let (_, log) = server.terminate();
    assert!(!log.contains("demo-sumbar"), "no password in the log");

    // Not a demo: no accounts, no passwords.
    let mut command = naskah(db.dir.path());
    command
        .env("NASKAH_DATABASE_URL", &db.url)
        .args(["serve", "--bind", "127.0.0.1:0"]);
    let server = Server::start(command);
    let front = send(&server, "GET", "/", "", &[]);
    assert_eq!(front.status, 200);
    assert!(
        !front.body.contains("demo-") && front.body.contains("/masuk"),
        "{}",
        front.body
    );
}

/// `serve --demo` makes one finished request per office in the background: every step taken,
/// every letter of the Dinas numbered and signed (pdfsig agrees), the applicant's own letter
/// left to them, and the audit log intact.
#[test]
fn the_demo_has_a_finished_request_per_office_with_its_chain_signed() {
    use diesel::prelude::*;
    use naskah::db::schema::{letters, offices, requests};
    let db = crate::common::TestDb::new(crate::common::Backend::Sqlite);
    let mut command = naskah(db.dir.path());
    command
        .env("NASKAH_DATABASE_URL", &db.url)
        .env("NASKAH_PKI_DIR", &crate::signing::pki().dir)
        .args(["serve", "--demo", "--bind", "127.0.0.1:0"]);
    let server = Server::start(command);
    let pool = db.open();
    let mut conn = pool.get().expect("connection");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(300);
    let finished = loop {
        let finished: Vec<(i64, String)> = requests::table
            .inner_join(offices::table)
            .filter(requests::status.eq("finished"))
            .select((requests::id, offices::code))
            .order(offices::code)
            .load::<(naskah::ids::RequestId, String)>(&mut conn)
            .expect("requests")
            .into_iter()
            .map(|(id, code)| (id.0, code))
            .collect();
        // The last office's letters are signed after its last step: wait for them too.
        let unsigned: i64 = letters::table
            .filter(letters::status.ne("signed"))
            .filter(letters::kind.ne("surat_permohonan"))
            .count()
            .get_result(&mut conn)
            .expect("letters");
        if finished.len() == 5 && unsigned == 0 {
            break finished;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "finished so far: {finished:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    };
    let codes: Vec<&str> = finished.iter().map(|(_, c)| c.as_str()).collect();
    assert_eq!(codes, ["banggai", "bolmut", "malut", "sumbar", "tarakan"]);
    let dir = tempfile::tempdir().expect("tempdir");
    for (request, code) in &finished {
        let chain: Vec<(naskah::ids::LetterId, String, String)> = letters::table
            .filter(letters::request_id.eq(request))
            .select((letters::id, letters::kind, letters::status))
            .load(&mut conn)
            .expect("chain");
        assert!(chain.len() >= 3, "{code}: {chain:?}");
        for (id, kind, status) in &chain {
            if kind == "surat_permohonan" {
                assert_eq!(
                    status, "draft",
                    "{code}: the applicant's letter stays theirs"
                );
                continue;
            }
            assert_eq!(status, "signed", "{code} {kind}");
            let (_, _, pdf) = naskah::letters::store::latest_revision(&mut conn, *id)
                .expect("revision")
                .expect("a PDF");
            let path = dir.path().join(format!("{code}-{kind}.pdf"));
            std::fs::write(&path, &pdf).expect("write");
            let out = crate::common::tool("pdfsig", &[&path.display().to_string()]);
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains("Signature Validation: Signature is Valid."),
                "{code} {kind}: {text}"
            );
        }
    }
    assert_eq!(naskah::audit::verify(&mut conn).expect("verify"), vec![]);
    drop(server);
}

/// Signs `username` in through the form; returns the session cookie and the session's CSRF
/// token (from the home page).
fn signed_in(server: &Server, username: &str, password: &str) -> (String, String) {
    let form = send(server, "GET", "/masuk", "", &[]);
    let (token, _) = set_cookie(&form, "naskah_masuk");
    let signed = send(
        server,
        "POST",
        "/masuk",
        &format!("naskah_masuk={token}"),
        &[
            ("username", username),
            ("password", password),
            ("csrf", &token),
        ],
    );
    assert_eq!(signed.status, 303, "{username} signs in");
    let (session, _) = set_cookie(&signed, "naskah_sesi");
    let cookie = format!("naskah_sesi={session}");
    let home = send(server, "GET", "/beranda", &cookie, &[]);
    (cookie, csrf_of(&home.body))
}

/// The demo's admin of Banggai makes an account on the administration page and sees its
/// password once; the new account signs in with it; the auditor reads the page and may
/// change nothing; the head of office may not open it; forms need their CSRF token.
#[test]
fn an_admin_makes_an_account_on_the_pages_and_the_auditor_only_reads() {
    let db = crate::common::TestDb::new(crate::common::Backend::Sqlite);
    let mut command = naskah(db.dir.path());
    command
        .env("NASKAH_DATABASE_URL", &db.url)
        .env("NASKAH_PKI_DIR", &crate::signing::pki().dir)
        .args(["serve", "--demo", "--bind", "127.0.0.1:0"]);
    let server = Server::start(command);
    let demo = |username: &str| naskah::demo::password_of(username);

    let (admin, csrf) = signed_in(&server, "banggai.admin", &demo("banggai.admin"));
    let home = send(&server, "GET", "/beranda", &admin, &[]);
    assert!(
        home.body.contains("href=\"/admin/banggai\""),
        "{}",
        home.body
    );
    let page = send(&server, "GET", "/admin/banggai", &admin, &[]);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("banggai.kadis") && page.body.contains("tambah-akun"));
    // The letterhead form, the officials' certificates (the demo PKI holds the kadis's key)
    // and the holidays.
    assert!(page.body.contains("id=\"kop-surat\"") && page.body.contains("id=\"tambah-libur\""));
    assert!(
        page.body.contains("berkas kunci PKCS#12 tersedia"),
        "{}",
        page.body
    );
    // The schedule as configured (the defaults here; no signer of scheduled reports).
    assert!(page.body.contains("0 0 7 * * Mon") && page.body.contains("belum diatur"));

    let form = [
        ("username", "banggai.operator"),
        ("full_name", "Operator <i>Uji</i>"),
        ("email", "operator@banggaikab.go.id"),
        ("peran", "tim_teknis"),
        ("peran", "auditor"),
    ];
    let without = send(&server, "POST", "/admin/banggai/orang", &admin, &form);
    assert_eq!(without.status, 403, "no CSRF token, no account");
    let mut with = form.to_vec();
    with.push(("csrf", &csrf));
    let made = send(&server, "POST", "/admin/banggai/orang", &admin, &with);
    assert_eq!(made.status, 200, "{}", made.body);
    assert!(
        made.body.contains("Operator &#60;i&#62;Uji&#60;/i&#62;") && !made.body.contains("<i>"),
        "markup inert: {}",
        made.body
    );
    let at = made.body.find("id=\"kata-sandi\">").expect("the password") + 16;
    let password: String = made.body[at..].chars().take_while(|c| *c != '<').collect();
    assert_eq!(password.len(), 16, "{password}");
    let (operator, _) = signed_in(&server, "banggai.operator", &password);
    let page = send(&server, "GET", "/admin/banggai", &operator, &[]);
    assert_eq!(page.status, 200, "an auditor reads");
    let again = send(&server, "GET", "/admin/banggai", &admin, &[]);
    assert!(
        again.body.contains("id=\"akun-banggai.operator\""),
        "listed"
    );

    let (auditor, auditor_csrf) = signed_in(&server, "banggai.auditor", &demo("banggai.auditor"));
    let page = send(&server, "GET", "/admin/banggai", &auditor, &[]);
    assert_eq!(page.status, 200);
    assert!(page.body.contains("banggai.operator") && !page.body.contains("tambah-akun"));
    let refused = send(
        &server,
        "POST",
        "/admin/banggai/orang",
        &auditor,
        &[
            ("username", "banggai.lain"),
            ("full_name", "Lain"),
            ("peran", "auditor"),
            ("csrf", &auditor_csrf),
        ],
    );
    assert_eq!(refused.status, 403, "an auditor changes nothing");

    // The auditor reads the office's audit log, where the new account's making stands.
    let log = send(&server, "GET", "/audit/banggai", &auditor, &[]);
    assert_eq!(log.status, 200);
    assert!(
        log.body.contains("person.created") && log.body.contains("banggai.admin"),
        "{}",
        log.body
    );
    assert!(!log.body.contains("BERUBAH"), "every entry intact");

    let (kadis, _) = signed_in(&server, "banggai.kadis", &demo("banggai.kadis"));
    assert_eq!(
        send(&server, "GET", "/audit/banggai", &kadis, &[]).status,
        403
    );
    assert_eq!(
        send(&server, "GET", "/admin/banggai", &kadis, &[]).status,
        403
    );
    assert_eq!(
        send(&server, "GET", "/admin/sumbar", &admin, &[]).status,
        404
    );
    let (_, log) = server.terminate();
    assert!(
        !log.contains(&password),
        "the password stays out of the log"
    );
}
