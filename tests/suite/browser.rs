//! The web application in a real browser: headless Chromium, driven through ChromeDriver by a
//! small W3C WebDriver client. One request of each of two seed SOPs goes through every step as
//! the people the SOP names — sign in, file with attachments, write each letter from its
//! draft, number it as the secretariat, sign it with a passphrase, enter records, decide,
//! hand over — and the main pages are saved as screenshots (`target/browser-artefacts/`, or
//! `NASKAH_TEST_ARTEFACTS`). ChromeDriver and Chromium must be installed: the README's test
//! line installs them, and this test fails without them.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use diesel::prelude::*;
use naskah::db::schema::{letters, people, requests};
use naskah::sop::{Artefact, Item, Route};
use serde_json::{Value, json};

use crate::common::{Server, TestDb, naskah};

/// ChromeDriver on a port of its own, stopped when dropped.
struct Driver {
    child: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Driver {
    fn start() -> Driver {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (the README's test line installs chromium-driver)");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while agent
            .get(&format!("{base}/status"))
            .call()
            .map(|r| r.status() != 200)
            .unwrap_or(true)
        {
            assert!(Instant::now() < deadline, "chromedriver did not answer");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().expect("tempdir").keep();
        let mut driver = Driver {
            child,
            base,
            session: String::new(),
            agent,
        };
        let created = driver.call(
            "POST",
            "/session",
            json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": "/usr/bin/chromium",
                    "args": [
                        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--disable-quic", "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        // A phone's width: the pages must work there.
                        "--window-size=412,1600",
                        format!("--user-data-dir={}", profile.display()),
                    ]
                }
            }}}),
        );
        driver.session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_owned();
        driver
    }

    fn call(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}{path}", self.base);
        let response = match method {
            "GET" => self.agent.get(&url).call(),
            "DELETE" => self.agent.delete(&url).call(),
            _ => self
                .agent
                .post(&url)
                .header("Content-Type", "application/json")
                .send(body.to_string().as_bytes()),
        };
        let mut response = response.unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert_eq!(status, 200, "{method} {path}: {text}");
        value["value"].clone()
    }

    fn at(&self, path: &str) -> String {
        format!("/session/{}{path}", self.session)
    }

    fn goto(&self, url: &str) {
        self.call("POST", &self.at("/url"), json!({ "url": url }));
    }

    fn url(&self) -> String {
        self.call("GET", &self.at("/url"), Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The address once it ends with `path` (a form's answer may still be on its way after
    /// the click returns), or as it is after 20 s.
    fn arrived(&self, path: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let url = self.url();
            if url.ends_with(path) || Instant::now() > deadline {
                return url;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn source(&self) -> String {
        self.call("GET", &self.at("/source"), Value::Null)
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    fn find(&self, css: &str) -> Option<String> {
        let found = self.call(
            "POST",
            &self.at("/elements"),
            json!({"using": "css selector", "value": css}),
        );
        found
            .as_array()
            .and_then(|all| all.first())
            .and_then(|e| e[ELEMENT].as_str())
            .map(str::to_owned)
    }

    fn element(&self, css: &str) -> String {
        self.find(css).unwrap_or_else(|| {
            panic!(
                "no element {css} on {}:\n{}",
                self.url(),
                visible_text(&self.source())
            )
        })
    }

    fn type_into(&self, css: &str, text: &str) {
        let element = self.element(css);
        self.call(
            "POST",
            &self.at(&format!("/element/{element}/clear")),
            json!({}),
        );
        self.call(
            "POST",
            &self.at(&format!("/element/{element}/value")),
            json!({ "text": text }),
        );
    }

    fn click(&self, css: &str) {
        let element = self.element(css);
        self.call(
            "POST",
            &self.at(&format!("/element/{element}/click")),
            json!({}),
        );
    }

    /// Clicks what submits a form or follows a link, and waits until the next page is there
    /// (the old page's root element has gone stale).
    fn submit(&self, css: &str) {
        let root = self.element("html");
        self.click(css);
        let url = format!("{}{}", self.base, self.at(&format!("/element/{root}/name")));
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.agent.get(&url).call().is_ok_and(|r| r.status() == 200) {
            assert!(
                Instant::now() < deadline,
                "no page came after clicking {css}"
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    fn text(&self, css: &str) -> String {
        let element = self.element(css);
        self.call(
            "GET",
            &self.at(&format!("/element/{element}/text")),
            Value::Null,
        )
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    fn screenshot(&self, name: &str) {
        let png = self.call("GET", &self.at("/screenshot"), Value::Null);
        let png = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .expect("a PNG");
        let dir = artefacts();
        std::fs::create_dir_all(&dir).expect("artefact directory");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("screenshot written");
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self
                .agent
                .delete(&format!("{}/session/{}", self.base, self.session))
                .call();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn artefacts() -> PathBuf {
    std::env::var_os("NASKAH_TEST_ARTEFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::common::crate_root().join("target/browser-artefacts"))
}

/// A page's text without its markup, for failure messages.
fn visible_text(html: &str) -> String {
    let html = match (html.find("<style"), html.find("</style>")) {
        (Some(from), Some(to)) if from < to => format!("{}{}", &html[..from], &html[to..]),
        _ => html.to_owned(),
    };
    let mut out = String::new();
    let mut inside = false;
    for c in html.chars() {
        match c {
            '<' => inside = true,
            '>' => {
                inside = false;
                out.push(' ');
            }
            c if !inside => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A browser and a `naskah serve --demo` on its own database, and who is signed in.
struct Session<'a> {
    driver: &'a Driver,
    base: String,
    db: naskah::db::Db,
    user: Option<String>,
    shots: String,
}

impl Session<'_> {
    fn sign_in(&mut self, username: &str) {
        if self.user.as_deref() == Some(username) {
            return;
        }
        if self.user.is_some() {
            self.driver.goto(&format!("{}/beranda", self.base));
            self.driver.submit("form[action='/keluar'] button");
        }
        self.driver.goto(&format!("{}/masuk", self.base));
        self.driver.type_into("#username", username);
        self.driver
            .type_into("#password", &naskah::demo::password_of(username));
        self.driver.submit("form button[type=submit]");
        assert!(
            self.driver.arrived("/beranda").ends_with("/beranda"),
            "{username} signed in: {}",
            visible_text(&self.driver.source())
        );
        self.user = Some(username.to_owned());
    }

    fn open(&self, request: i64) {
        self.driver
            .goto(&format!("{}/permohonan/{request}", self.base));
    }

    /// Submits the form the page shows and checks that it went back to the request's page.
    fn submitted(&self, request: i64, what: &str) {
        let url = self.driver.arrived(&format!("/permohonan/{request}"));
        assert!(
            url.ends_with(&format!("/permohonan/{request}")),
            "{what}: {url}\n{}",
            visible_text(&self.driver.source())
        );
    }

    fn conn(&self) -> naskah::db::PooledConn {
        self.db.get().expect("connection")
    }
}

/// The username that holds `role` at `office` in the demo data.
fn holder(office: &str, role: &str) -> String {
    naskah::demo::members()
        .expect("members")
        .into_iter()
        .find(|m| m.office == office && m.roles.iter().any(|r| r == role))
        .map(|m| m.username)
        .unwrap_or_else(|| panic!("nobody holds {role} at {office}"))
}

/// The office's seed SOP and the username of its demo applicant.
fn seed(office: &str) -> (naskah::sop::Sop, String) {
    let text = std::fs::read_to_string(
        crate::common::crate_root().join(format!("sops/{office}-hosting.xml")),
    )
    .expect("the seed SOP");
    let sop = naskah::sop::Sop::from_xml(&text).expect("SOP");
    let role = &sop
        .roles
        .iter()
        .find(|r| r.applicant)
        .expect("applicant")
        .id;
    let applicant = holder(office, role);
    (sop, applicant)
}

/// The letter of `kind` of `request` in the database, if made (void ones aside).
fn letter_of(session: &Session<'_>, request: i64, kind: &str) -> Option<(i64, String, String)> {
    letters::table
        .filter(letters::request_id.eq(request))
        .filter(letters::kind.eq(kind))
        .filter(letters::status.ne("void"))
        .select((letters::id, letters::status, letters::fields))
        .first(&mut session.conn())
        .optional()
        .expect("query")
}

/// The usernames of a letter's signers who have a NIP (those who sign in naskah).
fn signers(session: &Session<'_>, fields: &str) -> Vec<String> {
    let fields: Value = serde_json::from_str(fields).expect("fields");
    naskah::letters::signer_nips(&fields)
        .iter()
        .filter(|nip| !nip.is_empty())
        .map(|nip| {
            people::table
                .filter(people::nip.eq(nip))
                .select(people::username)
                .first::<String>(&mut session.conn())
                .expect("a signer with this NIP")
        })
        .collect()
}

/// Takes `request` of `office` through its SOP in the browser, deciding `decisions` in order.
fn drive(session: &mut Session<'_>, office: &str, request: i64, decisions: &[&str]) {
    let (sop, applicant) = seed(office);
    let secretary = holder(office, naskah::people::roles::SECRETARIAT);
    let mut decisions = decisions.iter();
    let mut made: Vec<String> = Vec::new();
    for round in 0.. {
        assert!(round < 40, "the request does not end");
        let current: Option<String> = requests::table
            .find(request)
            .select(requests::current_step)
            .first(&mut session.conn())
            .expect("request");
        let Some(no) = current else { break };
        let step = sop.step(&no).expect("step").clone();
        let actor = match step
            .actors
            .iter()
            .find(|a| sop.role(a).is_some_and(|r| r.applicant))
        {
            Some(_) => applicant.clone(),
            None => holder(office, &step.actors[0]),
        };
        let decision = matches!(step.route, Route::Decision { .. })
            .then(|| *decisions.next().expect("a decision"));
        let branch: Vec<Item> = match (&step.route, decision) {
            (Route::Decision { branches, .. }, Some(value)) => branches
                .iter()
                .find(|b| b.value == value)
                .expect("branch")
                .outputs
                .clone(),
            _ => Vec::new(),
        };
        session.sign_in(&actor);
        session.open(request);
        if made.is_empty() {
            session
                .driver
                .screenshot(&format!("{}-request", session.shots));
        }
        for item in step.requires.iter().chain(&step.outputs).chain(&branch) {
            let key = item.to_string();
            match item {
                Item::Attachment { id } if !made.contains(&key) => {
                    session.open(request);
                    let file = tempfile::Builder::new()
                        .suffix(".pdf")
                        .tempfile()
                        .expect("file");
                    std::fs::write(file.path(), attachment_pdf()).expect("write");
                    session.driver.type_into(
                        &format!("#berkas_{}", id.id()),
                        &file.path().display().to_string(),
                    );
                    session
                        .driver
                        .submit(&format!("form:has(#berkas_{}) button", id.id()));
                    session.submitted(request, &key);
                    let name = file
                        .path()
                        .file_name()
                        .expect("name")
                        .to_string_lossy()
                        .into_owned();
                    assert!(
                        session.driver.source().contains(&name),
                        "{key} uploaded: {}",
                        visible_text(&session.driver.source())
                    );
                    made.push(key);
                }
                // The hosting account: handed over with a password the applicant sees once.
                Item::Artefact { id } if *id == Artefact::AkunHosting && !made.contains(&key) => {
                    let password = format!("Awal-{office}-<b>&'\"7");
                    session.open(request);
                    session.driver.type_into("#akun", &format!("web-{office}"));
                    session.driver.type_into("#sandi", &password);
                    session.driver.submit("#serah-akun button");
                    session.submitted(request, &key);
                    assert!(
                        !session.driver.source().contains(&format!("Awal-{office}")),
                        "the password is not on the request page"
                    );
                    session.sign_in(&applicant);
                    session.open(request);
                    session.driver.submit("#lihat-akun button");
                    assert_eq!(session.driver.text("#kata-sandi"), password);
                    session
                        .driver
                        .screenshot(&format!("{}-handover", session.shots));
                    session.open(request);
                    assert!(
                        session.driver.find("#lihat-akun").is_none(),
                        "shown once only"
                    );
                    assert!(
                        visible_text(&session.driver.source()).contains("sudah dilihat pemohon")
                    );
                    session.sign_in(&actor);
                    made.push(key);
                }
                Item::Artefact { id } if !made.contains(&key) => {
                    session.open(request);
                    session.driver.type_into(
                        &format!("#catatan_{}", id.id()),
                        &format!("{}.{office}.go.id", id.id()),
                    );
                    session
                        .driver
                        .submit(&format!("form:has(#catatan_{}) button", id.id()));
                    session.submitted(request, &key);
                    made.push(key);
                }
                Item::Letter { kind, state } => {
                    if letter_of(session, request, kind.id()).is_none() {
                        session.open(request);
                        session.driver.submit(&format!(
                            "a[href='/permohonan/{request}/surat?jenis={}']",
                            kind.id()
                        ));
                        if made.iter().all(|m| !m.starts_with("surat")) {
                            session
                                .driver
                                .screenshot(&format!("{}-letter-form", session.shots));
                        }
                        session.driver.submit("form button[type=submit]");
                        session.submitted(request, &key);
                        made.push(format!("surat {}", kind.id()));
                    }
                    if *state >= naskah::letters::LetterState::Numbered {
                        let (id, status, fields) =
                            letter_of(session, request, kind.id()).expect("the letter");
                        if status == "draft" {
                            session.sign_in(&secretary);
                            session.open(request);
                            session
                                .driver
                                .submit(&format!("form[action='/surat/{id}/nomor'] button"));
                            session.submitted(request, "numbered");
                        }
                        if *state == naskah::letters::LetterState::Signed {
                            for signer in signers(session, &fields) {
                                session.sign_in(&signer);
                                session.open(request);
                                if session.driver.find(&format!("#passphrase-{id}")).is_none() {
                                    continue; // signed already
                                }
                                session.driver.type_into(
                                    &format!("#passphrase-{id}"),
                                    &crate::signing::passphrase(&signer),
                                );
                                session.driver.submit(&format!(
                                    "form[action='/surat/{id}/tandatangan'] button"
                                ));
                                session.submitted(request, "signed");
                            }
                            let (_, status, _) =
                                letter_of(session, request, kind.id()).expect("the letter");
                            assert_eq!(status, "signed", "{key}");
                        }
                        session.sign_in(&actor);
                    }
                }
                _ => {}
            }
        }
        session.open(request);
        if let Some(value) = decision {
            session
                .driver
                .click(&format!("#decision option[value='{value}']"));
        }
        session
            .driver
            .type_into("#note", &format!("langkah {no} selesai"));
        session.driver.submit("#selesaikan button");
        session.submitted(request, &format!("step {no}"));
        let moved: Option<String> = requests::table
            .find(request)
            .select(requests::current_step)
            .first(&mut session.conn())
            .expect("request");
        assert_ne!(
            moved.as_deref(),
            Some(no.as_str()),
            "step {no} did not move: {}",
            visible_text(&session.driver.source())
        );
    }
}

/// Files a request at `office` in the browser as its applicant; returns its id.
fn file(session: &mut Session<'_>, office: &str, application: &str) -> i64 {
    let (_, applicant) = seed(office);
    session.sign_in(&applicant);
    session.driver.submit("a[href='/permohonan/baru']");
    session.driver.type_into("#application_name", application);
    session.driver.type_into("#subdomain", "simpus");
    session
        .driver
        .screenshot(&format!("{}-new-request", session.shots));
    session.driver.submit("form button[type=submit]");
    let url = session.driver.url();
    let id: i64 = url
        .rsplit('/')
        .next()
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("filed: {url}\n{}", visible_text(&session.driver.source())));
    id
}

#[test]
fn two_requests_go_through_every_step_in_a_browser() {
    let db = TestDb::new(crate::common::Backend::Sqlite);
    let mut command = naskah(db.dir.path());
    command
        .env("NASKAH_DATABASE_URL", &db.url)
        .env("NASKAH_PKI_DIR", &crate::signing::pki().dir)
        .args(["serve", "--demo", "--bind", "127.0.0.1:0"]);
    let server = Server::start(command);
    let driver = Driver::start();
    let base = format!("http://{}", server.addr);
    driver.goto(&format!("{base}/"));
    driver.screenshot("front-page");
    let mut session = Session {
        driver: &driver,
        base: base.clone(),
        db: db.open(),
        user: None,
        shots: String::new(),
    };

    for (office, decisions) in [("banggai", &["sesuai"][..]), ("sumbar", &["ya", "ya"][..])] {
        session.shots = office.to_owned();
        let request = file(&mut session, office, "SIMPUS <b>Puskesmas</b>");
        // HTML typed into a field comes back as text.
        assert!(
            driver.text("h1").contains("SIMPUS <b>Puskesmas</b>"),
            "{}",
            driver.text("h1")
        );
        drive(&mut session, office, request, decisions);
        session.open(request);
        assert_eq!(driver.text("#status"), "selesai");
        driver.screenshot(&format!("{office}-finished"));

        // Every letter the Dinas made is numbered and signed by every official it names, and
        // pdfsig, an independent reader, finds each signature valid.
        let chain: Vec<(i64, String, String)> = letters::table
            .filter(letters::request_id.eq(request))
            .select((letters::id, letters::kind, letters::status))
            .load(&mut session.conn())
            .expect("chain");
        assert!(chain.len() >= 3, "{chain:?}");
        let signed: Vec<&(i64, String, String)> =
            chain.iter().filter(|(_, _, s)| s == "signed").collect();
        assert!(!signed.is_empty(), "{chain:?}");
        for (id, kind, _) in signed {
            let (_, _, pdf) = naskah::letters::store::latest_revision(
                &mut session.conn(),
                naskah::ids::LetterId(*id),
            )
            .expect("revision")
            .expect("a PDF");
            let path = db.dir.path().join(format!("{kind}-{id}.pdf"));
            std::fs::write(&path, &pdf).expect("write");
            let out = crate::common::tool("pdfsig", &[&path.display().to_string()]);
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains("Signature Validation: Signature is Valid."),
                "{kind}: {text}"
            );
        }
    }

    // The home page of an official lists nothing left to do for these requests; the
    // applicant's lists their requests.
    session.sign_in("banggai.pemohon");
    driver.screenshot("applicant-home");
    assert!(driver.source().contains("selesai"));
    // Each request's signed letters told the applicant, in their inbox, new until they
    // mark them read.
    assert!(
        visible_text(&driver.source()).contains("telah ditandatangani"),
        "{}",
        visible_text(&driver.source())
    );
    assert!(visible_text(&driver.source()).contains("Baru:"));
    driver.submit("#tandai-dibaca button");
    assert!(
        !visible_text(&driver.source()).contains("Baru:")
            && driver.find("#tandai-dibaca").is_none(),
        "{}",
        visible_text(&driver.source())
    );

    // The secretariat's register lists the numbers it gave this month, each linked to its
    // letter; the home page links the register and the reports.
    session.sign_in("banggai.sekretariat");
    assert!(driver.find("a[href='/register/banggai']").is_some());
    driver.submit("a[href='/register/banggai']");
    let numbers: Vec<String> = naskah::db::schema::issued_numbers::table
        .select(naskah::db::schema::issued_numbers::number)
        .load(&mut session.conn())
        .expect("numbers");
    assert!(!numbers.is_empty());
    let listed = driver.text("#nomor");
    assert!(
        numbers.iter().any(|n| listed.contains(n.as_str())),
        "{listed}"
    );
    driver.screenshot("register");
    // The office's administration, as its admin sees it.
    session.sign_in("banggai.admin");
    driver.submit("a[href='/admin/banggai']");
    assert!(driver.find("#tambah-akun").is_some() && driver.find("#kop-surat").is_some());
    driver.screenshot("admin");
    // The auditor exports the office's archive and follows the export to its ZIP.
    session.sign_in("banggai.auditor");
    driver.goto(&format!("{base}/laporan/banggai"));
    driver.submit("#ekspor button");
    let deadline = Instant::now() + Duration::from_secs(60);
    while driver.find("#unduh").is_none() {
        assert!(
            Instant::now() < deadline,
            "{}",
            visible_text(&driver.source())
        );
        std::thread::sleep(Duration::from_millis(500));
        driver.goto(&driver.url());
    }
    assert!(visible_text(&driver.source()).contains("Selesai:"));
    driver.screenshot("export");

    // The kepala dinas makes last week's SLA report by hand and follows it to its letter.
    session.sign_in("banggai.kadis");
    driver.goto(&format!("{base}/laporan/banggai"));
    driver.type_into(
        "#passphrase-laporan",
        &crate::signing::passphrase("banggai.kadis"),
    );
    driver.submit("#buat-laporan button");
    let deadline = Instant::now() + Duration::from_secs(60);
    while visible_text(&driver.source()).contains("Sedang berjalan") {
        assert!(Instant::now() < deadline, "the report is not made");
        std::thread::sleep(Duration::from_millis(500));
        driver.goto(&driver.url());
    }
    let text = visible_text(&driver.source());
    assert!(
        text.contains("Selesai: 1 dibuat dan ditandatangani"),
        "{text}"
    );
    driver.screenshot("report");
    session.sign_in("banggai.pemohon");
    driver.goto(&format!("{base}/register/banggai"));
    assert!(
        visible_text(&driver.source()).contains("hanya untuk petugas kantor"),
        "an applicant does not read the register"
    );
}

/// A PDF for an attachment: a real one, since naskah reads what it is given.
fn attachment_pdf() -> Vec<u8> {
    crate::signing::sample(naskah::letters::LetterKind::SuratPermohonan)
}
