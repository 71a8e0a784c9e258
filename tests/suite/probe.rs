//! The holes an outside probe found, each sent as the attacker sent it: PDF bombs against the
//! public verification and the command line (memory and CPU budgets, a cap on concurrent
//! verifications), letters of other offices named to a signing job and to the signing route,
//! parallel guesses at a password and a passphrase, and guesses that would lock an official
//! out of their own desk.

use std::io::Write;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{Server, TestDb, naskah};

/// A PDF whose objects 3… are object streams, each holding one object whose text inflates
/// to `body` (compressed once, repeated `streams` times); the xref names every stream.
fn object_stream_bomb(body: &[u8], streams: usize) -> Vec<u8> {
    let header = b"1000 0 ";
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(header).expect("compress");
    encoder.write_all(body).expect("compress");
    let compressed = encoder.finish().expect("compress");
    let stream = {
        let mut s = format!(
            "<< /Type /ObjStm /N 1 /First {} /Filter /FlateDecode /Length {} >>\nstream\n",
            header.len(),
            compressed.len()
        )
        .into_bytes();
        s.extend_from_slice(&compressed);
        s.extend_from_slice(b"\nendstream");
        s
    };
    let mut objects: Vec<&[u8]> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [] /Count 0 >>",
    ];
    objects.extend(std::iter::repeat_n(&stream[..], streams));
    crate::verify::pdf_of(&objects)
}

/// One object stream holding an array of `count` integers.
fn integer_array_bomb(count: usize) -> Vec<u8> {
    let mut body = Vec::with_capacity(count * 2 + 2);
    body.push(b'[');
    for _ in 0..count {
        body.extend_from_slice(b"0 ");
    }
    body.push(b']');
    object_stream_bomb(&body, 1)
}

/// `streams` object streams, each a dictionary of `pairs` repeated `/A 0` entries.
fn dictionary_bomb(streams: usize, pairs: usize) -> Vec<u8> {
    let mut body = Vec::with_capacity(pairs * 5 + 4);
    body.extend_from_slice(b"<<");
    for _ in 0..pairs {
        body.extend_from_slice(b"/A 0 ");
    }
    body.extend_from_slice(b">>");
    object_stream_bomb(&body, streams)
}

/// A process's resident size and CPU time (utime + stime, in clock ticks), while it lives.
fn usage(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some((rss, ticks))
}

/// The processes whose parent is `pid`.
fn children(pid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            std::fs::read_to_string(format!("/proc/{child}/stat"))
                .ok()
                .and_then(|stat| {
                    let after = stat
                        .rsplit_once(')')?
                        .1
                        .split_whitespace()
                        .nth(1)?
                        .to_owned();
                    after.parse::<u32>().ok()
                })
                == Some(pid)
        })
        .collect()
}

/// The largest resident size seen of a process and of any of its children, sampled every
/// 10 ms until dropped.
struct Sampler {
    stop: Arc<AtomicBool>,
    peaks: Arc<Mutex<(u64, u64)>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    fn start(pid: u32) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let peaks = Arc::new(Mutex::new((0, 0)));
        let (halt, seen) = (stop.clone(), peaks.clone());
        let thread = std::thread::spawn(move || {
            while !halt.load(Ordering::Relaxed) {
                let own = usage(pid).map_or(0, |(rss, _)| rss);
                let worker = children(pid)
                    .into_iter()
                    .filter_map(usage)
                    .map(|(rss, _)| rss)
                    .max()
                    .unwrap_or(0);
                if let Ok(mut peaks) = seen.lock() {
                    peaks.0 = peaks.0.max(own);
                    peaks.1 = peaks.1.max(worker);
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        Sampler {
            stop,
            peaks,
            thread: Some(thread),
        }
    }

    /// (the process's own peak, its largest child's peak), in bytes.
    fn finish(mut self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        *self.peaks.lock().expect("peaks")
    }
}

const MB: u64 = 1 << 20;
/// What one verification may add to the memory of the machine.
const BUDGET: u64 = 256 * MB;

/// The attack files of the probe, at the sizes it sent, with the words of the refusal each
/// must get.
fn bombs() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    vec![
        (
            "16.7 million integers in one object stream",
            integer_array_bomb(16_700_000),
            "melebihi batas memori",
        ),
        (
            "33 million integers in one object stream",
            integer_array_bomb(33_000_000),
            "melebihi batas memori",
        ),
        (
            "60 object streams of 13 million repeated keys",
            dictionary_bomb(60, 13_000_000),
            "melebihi batas waktu",
        ),
    ]
}

#[test]
fn pdf_bombs_end_within_the_budget_on_the_command_line() {
    let bombs = bombs();
    // The files are as small as the probe's: 33 KB, 64 KB, 5.7 MB.
    assert!(bombs[0].1.len() < 40_000, "{}", bombs[0].1.len());
    assert!(bombs[1].1.len() < 70_000, "{}", bombs[1].1.len());
    assert!(bombs[2].1.len() < 6_500_000, "{}", bombs[2].1.len());
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, pdf, words) in bombs {
        let path = dir.path().join("bomb.pdf");
        std::fs::write(&path, &pdf).expect("write");
        let started = Instant::now();
        let mut child = naskah(dir.path())
            .args(["verify", "--seconds", "5"])
            .arg(&path)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("naskah verify");
        let sampler = Sampler::start(child.id());
        let status = child.wait().expect("wait");
        let elapsed = started.elapsed();
        let (own, worker) = sampler.finish();
        let mut stderr = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().expect("stderr"), &mut stderr)
            .expect("stderr");
        assert_eq!(status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(words), "{name}: {stderr}");
        assert!(elapsed < Duration::from_secs(8), "{name}: took {elapsed:?}");
        assert!(
            own < BUDGET && worker < BUDGET,
            "{name}: {own} and {worker} bytes"
        );
    }
    // In one call with honest letters (B-LT: trust decided): each bomb ends only its own
    // file.
    let tsa = crate::signing::Tsa::start();
    let signed = crate::verify::sign(
        &crate::verify::letter(),
        "banggai.kadis",
        &crate::verify::options(true, Some(crate::verify::BLOCK), None),
        naskah::signing::Level::BLT,
        Some(&tsa),
    );
    let mut files = Vec::new();
    for (i, (_, pdf, _)) in crate::probe::bombs().into_iter().enumerate() {
        for (kind, bytes) in [("bomb", &pdf), ("letter", &signed)] {
            let path = dir.path().join(format!("{i}-{kind}.pdf"));
            std::fs::write(&path, bytes).expect("write");
            files.push(path);
        }
    }
    let root = crate::signing::pki()
        .dir
        .join(naskah::signing::pki::ROOT_CERT);
    let output = naskah(dir.path())
        .args(["verify", "--json", "--seconds", "5", "--trust"])
        .arg(&root)
        .args(&files)
        .output()
        .expect("naskah verify");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(lines.len(), 3, "{stdout}\n{stderr}");
    assert!(
        lines.iter().all(|l| l["verdict"] == "VALID"
            && l["file"]
                .as_str()
                .is_some_and(|f| f.ends_with("-letter.pdf"))),
        "{stdout}"
    );
    assert_eq!(stderr.matches("-bomb.pdf: ").count(), 3, "{stderr}");
}

/// POSTs `pdf` to the public API; the status, the Retry-After header and the answer.
fn upload(addr: std::net::SocketAddr, pdf: &[u8]) -> (u16, Option<String>, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let mut response = agent
        .post(&format!("http://{addr}/api/v1/verify"))
        .header("Content-Type", "application/pdf")
        .send(pdf)
        .expect("response");
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (
        status,
        retry,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

/// Asks /healthz every 100 ms until dropped; what did not answer 200 within a second.
struct Health {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<(usize, Vec<String>)>>,
}

impl Health {
    fn watch(addr: std::net::SocketAddr) -> Health {
        let stop = Arc::new(AtomicBool::new(false));
        let halt = stop.clone();
        let thread = std::thread::spawn(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(1)))
                .build()
                .into();
            let (mut asked, mut failed) = (0, Vec::new());
            while !halt.load(Ordering::Relaxed) {
                asked += 1;
                match agent.get(&format!("http://{addr}/healthz")).call() {
                    Ok(r) if r.status().as_u16() == 200 => {}
                    Ok(r) => failed.push(format!("status {}", r.status())),
                    Err(e) => failed.push(e.to_string()),
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            (asked, failed)
        });
        Health {
            stop,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> (usize, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .map(|t| t.join().expect("health thread"))
            .unwrap_or_default()
    }
}

#[test]
fn pdf_bombs_sent_to_the_public_endpoint_stay_within_the_budget_while_the_server_answers() {
    let db = TestDb::new(crate::common::Backend::Sqlite);
    let mut command = naskah(db.dir.path());
    command
        .env("NASKAH_DATABASE_URL", &db.url)
        .env("NASKAH_VERIFY_SECONDS", "5")
        .env("NASKAH_VERIFY_WORKERS", "2")
        .args(["serve", "--bind", "127.0.0.1:0"]);
    let server = Server::start(command);
    let pid = server.child.id();
    let (before, _) = usage(pid).expect("the server's usage");
    let health = Health::watch(server.addr);
    let sampler = Sampler::start(pid);
    for (name, pdf, words) in bombs() {
        let started = Instant::now();
        let (status, _, answer) = upload(server.addr, &pdf);
        let elapsed = started.elapsed();
        assert_eq!(status, 422, "{name}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains(words), "{name}: {answer}");
        assert!(elapsed < Duration::from_secs(8), "{name}: {elapsed:?}");
        // The work ended with the answer: no worker of the server is still busy.
        let busy = |workers: &[u32]| -> Vec<(u32, u64)> {
            workers
                .iter()
                .filter_map(|w| Some((*w, usage(*w)?.1)))
                .collect()
        };
        let workers = children(pid);
        let first = busy(&workers);
        std::thread::sleep(Duration::from_secs(1));
        for (worker, ticks) in busy(&workers) {
            let earlier = first
                .iter()
                .find(|(w, _)| *w == worker)
                .map_or(ticks, |(_, t)| *t);
            assert!(
                ticks - earlier <= 10,
                "{name}: worker {worker} still burns CPU ({} ticks in a second)",
                ticks - earlier
            );
        }
    }
    // The page takes the same budget.
    let (status, _, page) =
        crate::verify::upload_form(&server, "berkas", &integer_array_bomb(16_700_000));
    assert_eq!(status, 422);
    assert!(page.contains("melebihi batas memori"), "{page}");

    // Twenty bombs at once, on two workers: the excess is told to come back later.
    let slow = Arc::new(dictionary_bomb(4, 13_000_000));
    let barrier = Arc::new(Barrier::new(20));
    let answers: Vec<(u16, Option<String>)> = (0..20)
        .map(|_| {
            let (slow, barrier, addr) = (slow.clone(), barrier.clone(), server.addr);
            std::thread::spawn(move || {
                barrier.wait();
                let (status, retry, _) = upload(addr, &slow);
                (status, retry)
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().expect("upload thread"))
        .collect();
    let refused = answers.iter().filter(|(status, _)| *status == 503).count();
    assert!(
        answers
            .iter()
            .all(|(status, _)| [422, 503].contains(status)),
        "{answers:?}"
    );
    assert!(refused >= 18, "{answers:?}");
    assert!(
        answers
            .iter()
            .filter(|(status, _)| *status == 503)
            .all(|(_, retry)| retry.is_some()),
        "{answers:?}"
    );
    let (own, worker) = sampler.finish();
    let (asked, failed) = health.finish();
    assert!(
        failed.is_empty(),
        "/healthz failed {} of {asked}: {failed:?}",
        failed.len()
    );
    assert!(
        own < before + BUDGET,
        "the server grew from {before} to {own} bytes"
    );
    assert!(worker < BUDGET, "a worker reached {worker} bytes");
}

/// The applicant of Banggai's SOP (its role's demo account).
fn banggai_applicant(conn: &mut naskah::db::DbConn) -> String {
    let office = naskah::office::find_by_code(conn, "banggai")
        .expect("query")
        .expect("office");
    let (_, sop) = naskah::workflow::current_sop(conn, office.id).expect("sop");
    let role = sop.roles.iter().find(|r| r.applicant).expect("applicant");
    format!("banggai.{}", role.id)
}

#[test]
fn letters_a_caller_may_not_see_stay_unknown_to_signing_jobs_and_the_signing_route() {
    use naskah::letters::LetterKind;
    let db = TestDb::new(crate::common::Backend::Sqlite);
    let pool = crate::tte::setup(&db);
    let mut conn = pool.get().expect("connection");
    let numbered =
        crate::tte::numbered_letter(&mut conn, LetterKind::SuratRekomendasi, &["banggai.kadis"]);
    let draft = crate::common::banggai_draft(&mut conn, LetterKind::SuratRekomendasi, None);
    let missing = naskah::ids::LetterId(numbered.0 + draft.0 + 1000);
    let applicant = banggai_applicant(&mut conn);
    // An applicant of the office (none of these letters is of their requests), an official of
    // another office, an applicant of another office.
    let callers = [applicant.as_str(), "sumbar.kadis", "sumbar.pic_opd"];
    let tokens: Vec<(String, String)> = callers
        .iter()
        .map(|username| (username.to_string(), crate::tte::token(&mut conn, username)))
        .collect();
    drop(conn);
    let server = crate::tte::server(&db, &[], None);
    let letters = [numbered, draft, missing];
    for (username, token) in &tokens {
        // A wrong passphrase, and the caller's own right one where they hold a certificate.
        let own = naskah::signing::pki::passphrase_of(
            &crate::signing::pki().dir,
            &naskah::signing::pki::official_p12(username),
        );
        for passphrase in std::iter::once("x".to_owned()).chain(own) {
            let ids: Vec<i64> = letters.iter().map(|l| l.0).collect();
            let (code, started) = crate::tte::post(
                &server,
                "/api/v1/signing-jobs",
                token,
                &serde_json::json!({ "passphrase": passphrase, "letters": ids }),
            );
            assert_eq!(code, 202, "{username}: {started}");
            let job = started["job"].as_i64().expect("a job");
            let deadline = Instant::now() + Duration::from_secs(60);
            let job = loop {
                let (status, text) = crate::common::get_with(
                    &format!("http://{}/api/v1/jobs/{job}", server.addr),
                    token,
                );
                assert_eq!(status, 200, "{text}");
                let job: Value = serde_json::from_str(&text).expect("json");
                if job["status"] != "running" {
                    break job;
                }
                assert!(Instant::now() < deadline, "{job}");
                std::thread::sleep(Duration::from_millis(100));
            };
            let outcomes = job["outcomes"].as_array().expect("outcomes");
            assert_eq!(outcomes.len(), 3, "{job}");
            for (outcome, letter) in outcomes.iter().zip(letters) {
                assert_eq!(
                    outcome["name"],
                    format!("surat {letter}"),
                    "{username}: {job}"
                );
                assert_eq!(
                    outcome["message"],
                    format!("surat {letter} tidak ditemukan"),
                    "{username}: {job}"
                );
            }
        }
        // The signing route answers alike for a numbered letter, a draft and none at all.
        for letter in letters {
            for path in [
                format!("/api/v1/letters/{letter}/sign"),
                format!("/api/v1/letters/{letter}/sign/totp"),
            ] {
                let (code, answer) = crate::tte::post(
                    &server,
                    &path,
                    token,
                    &serde_json::json!({ "passphrase": "x" }),
                );
                assert_eq!(code, 404, "{username} {path}: {answer}");
                assert_eq!(
                    answer["error"]["message"],
                    format!("surat {letter} tidak ditemukan"),
                    "{username} {path}"
                );
            }
        }
    }
}

/// A connection to `server` from `source`, a loopback address (127.0.0.2, …): a client at
/// another desk.
fn connect_from(source: &str, server: std::net::SocketAddr) -> std::net::TcpStream {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    let from: std::net::SocketAddr = format!("{source}:0").parse().expect("address");
    socket.bind(&from.into()).expect("bind");
    socket.connect(&server.into()).expect("connect");
    let stream: std::net::TcpStream = socket.into();
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    stream
}

/// POSTs the sign-in form as a browser at `source` (a loopback address) would; the status.
fn sign_in_from(source: &str, server: std::net::SocketAddr, username: &str, password: &str) -> u16 {
    use std::io::{BufRead, BufReader};
    let mut stream = connect_from(source, server);
    let body = format!("username={username}&password={password}&csrf=form-token-1");
    write!(
        stream,
        "POST /masuk HTTP/1.1\r\nHost: {server}\r\nCookie: naskah_masuk=form-token-1\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).expect("status");
    line.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// Lets the waits of `scope` run out, as if the time had passed.
fn time_passes(pool: &naskah::db::Db, scope: &str) {
    use diesel::prelude::*;
    use naskah::db::schema::attempts;
    diesel::update(attempts::table.filter(attempts::scope.eq(scope)))
        .set(attempts::locked_until.eq(naskah::db::now() - chrono::Duration::seconds(1)))
        .execute(&mut *pool.get().expect("connection"))
        .expect("time passes");
}

crate::common::on_both_backends! {
    fn parallel_wrong_passwords_check_at_most_five_and_lock_no_one_out_of_their_own_desk(db) {
        let pool = crate::tte::setup(db);
        let mut conn = pool.get().expect("connection");
        let usernames = ["banggai.kadis", "banggai.sekretariat", "banggai.kabid_egov", "banggai.tim_teknis", "sumbar.kadis", "sumbar.helpdesk", "malut.kabid_tik", "bolmut.kadis", "tarakan.kadis", "tarakan.bagian_umum"];
        for username in usernames {
            let who = naskah::people::find_by_username(&mut conn, username).expect("query").expect(username);
            naskah::accounts::set_password(&mut conn, who.id, "kata-sandi-benar-1", None).expect("password");
        }
        drop(conn);
        let server = crate::tte::server(db, &[], None);
        let addr = server.addr;

        // Sixty wrong passwords at once for one account: five are checked, the rest wait.
        let barrier = Arc::new(Barrier::new(60));
        let codes: Vec<u16> = (0..60)
            .map(|i| {
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    barrier.wait();
                    sign_in_from("127.0.0.1", addr, "banggai.kadis", &format!("tebakan-{i}"))
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().expect("attempt"))
            .collect();
        let checked = codes.iter().filter(|c| **c == 401).count();
        assert!((1..=5).contains(&checked), "{checked} checked: {codes:?}");
        assert_eq!(codes.iter().filter(|c| **c == 429).count(), 60 - checked, "{codes:?}");
        // The lock holds: the right password waits too, from that address.
        assert_eq!(sign_in_from("127.0.0.1", addr, "banggai.kadis", "kata-sandi-benar-1"), 429);
        // The official at another desk signs in at once.
        assert_eq!(sign_in_from("127.0.0.2", addr, "banggai.kadis", "kata-sandi-benar-1"), 303);
        // The office's admin sees the wait, with the address, and lifts it.
        let mut conn = pool.get().expect("connection");
        let admin = crate::tte::token(&mut conn, "banggai.admin");
        let kadis = crate::tte::person(&mut conn, "banggai.kadis").id;
        drop(conn);
        let waits_url = format!("http://{addr}/api/v1/offices/banggai/people/{kadis}/waits");
        let (status, text) = crate::common::get_with(&waits_url, &admin);
        assert_eq!(status, 200, "{text}");
        let waits: Value = serde_json::from_str(&text).expect("json");
        let from = &waits["sign_in"][0];
        assert_eq!((from["subject"].as_str(), from["failures"].as_i64()), (Some("127.0.0.1"), Some(5)), "{waits}");
        assert!(from["locked_until"].is_string(), "{waits}");
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let cleared = agent.delete(&waits_url).header("Authorization", &format!("Bearer {admin}")).call().expect("delete");
        assert_eq!(cleared.status().as_u16(), 200);
        assert_eq!(sign_in_from("127.0.0.1", addr, "banggai.kadis", "kata-sandi-benar-1"), 303);

        // Fifty more wrong ones, one after the other: still at most five checked, and the
        // official signs in from elsewhere at once.
        let codes: Vec<u16> = (0..50).map(|i| sign_in_from("127.0.0.1", addr, "banggai.kadis", &format!("lagi-{i}"))).collect();
        assert_eq!(codes.iter().filter(|c| **c == 401).count(), 5, "{codes:?}");
        assert_eq!(sign_in_from("127.0.0.3", addr, "banggai.kadis", "kata-sandi-benar-1"), 303);

        // Guessing across accounts from one address: twenty failures, then the address waits
        // for every account; other addresses do not.
        let mut codes = Vec::new();
        for username in usernames {
            for guess in 0..4 {
                codes.push(sign_in_from("127.0.0.4", addr, username, &format!("tebak-{guess}")));
            }
        }
        assert_eq!(codes.iter().filter(|c| **c == 401).count(), 20, "{codes:?}");
        assert_eq!(codes.iter().filter(|c| **c == 429).count(), 20, "{codes:?}");
        assert_eq!(sign_in_from("127.0.0.4", addr, "tarakan.bagian_umum", "kata-sandi-benar-1"), 429);
        assert_eq!(sign_in_from("127.0.0.5", addr, "tarakan.bagian_umum", "kata-sandi-benar-1"), 303);
    }

    fn parallel_wrong_passphrases_try_at_most_five_and_the_lock_holds(db) {
        use diesel::prelude::*;
        let pool = crate::tte::setup(db);
        let mut conn = pool.get().expect("connection");
        let letter = crate::tte::numbered_letter(&mut conn, naskah::letters::LetterKind::SuratRekomendasi, &["banggai.kadis"]);
        let token = crate::tte::token(&mut conn, "banggai.kadis");
        let kadis = crate::tte::person(&mut conn, "banggai.kadis").id;
        drop(conn);
        let server = Arc::new(crate::tte::server(db, &[], None));
        let barrier = Arc::new(Barrier::new(30));
        let codes: Vec<u16> = (0..30)
            .map(|i| {
                let (server, barrier, token) = (server.clone(), barrier.clone(), token.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    let path = format!("/api/v1/letters/{letter}/sign");
                    crate::tte::post(&server, &path, &token, &serde_json::json!({ "passphrase": format!("tebakan-{i}") })).0
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().expect("attempt"))
            .collect();
        // Each tried passphrase is in the audit log: at most five.
        let mut conn = pool.get().expect("connection");
        let tried: i64 = naskah::db::schema::audit_log::table
            .filter(naskah::db::schema::audit_log::subject.eq(format!("person:{kadis}")))
            .filter(naskah::db::schema::audit_log::action.eq_any(["signing.wrong_passphrase", "signing.locked"]))
            .count()
            .get_result(&mut conn)
            .expect("audit");
        assert!((1..=5).contains(&tried), "{tried} tried: {codes:?}");
        assert!(codes.iter().all(|c| [422, 423].contains(c)), "{codes:?}");
        assert_eq!(codes.iter().filter(|c| **c == 422).count() as i64, tried.min(4), "{codes:?}");
        let sign = |passphrase: &str| {
            crate::tte::post(&server, &format!("/api/v1/letters/{letter}/sign"), &token, &serde_json::json!({ "passphrase": passphrase })).0
        };
        // Locked: the right passphrase is refused, until the lock runs out.
        assert_eq!(sign(&crate::signing::passphrase("banggai.kadis")), 423);
        assert_eq!(crate::tte::status(&mut conn, letter), "numbered");
        time_passes(&pool, "passphrase");
        assert_eq!(sign(&crate::signing::passphrase("banggai.kadis")), 201);
        assert_eq!(crate::tte::status(&mut conn, letter), "signed");
    }
}

/// The numbered letters whose newest stored revision is not the numbered one: what a stop
/// between numbering and rendering leaves behind (read, never written, by the test).
fn torn(pool: &naskah::db::Db) -> Vec<naskah::ids::LetterId> {
    use diesel::prelude::*;
    use naskah::db::schema::{letter_revisions, letters};
    let mut conn = pool.get().expect("connection");
    let numbered: Vec<naskah::ids::LetterId> = letters::table
        .filter(letters::status.eq("numbered"))
        .select(letters::id)
        .load(&mut conn)
        .expect("letters");
    numbered
        .into_iter()
        .filter(|letter| {
            let newest: String = letter_revisions::table
                .filter(letter_revisions::letter_id.eq(letter))
                .order(letter_revisions::revision.desc())
                .select(letter_revisions::purpose)
                .first(&mut conn)
                .expect("revision");
            newest == "generated"
        })
        .collect()
}

crate::common::on_both_backends! {
    fn a_stop_in_the_middle_of_numbering_and_signing_is_put_right_at_the_next_start(db) {
        use naskah::letters::LetterKind;
        let pool = crate::tte::setup(db);
        let mut conn = pool.get().expect("connection");
        let mut drafts: Vec<naskah::ids::LetterId> = (0..80)
            .map(|_| crate::common::banggai_draft(&mut conn, LetterKind::SuratRekomendasi, None))
            .collect();
        let to_sign: Vec<i64> = (0..20)
            .map(|_| crate::tte::numbered_letter(&mut conn, LetterKind::SuratRekomendasi, &["banggai.kadis"]).0)
            .collect();
        let secretary = crate::tte::token(&mut conn, "banggai.sekretariat");
        let kadis = crate::tte::token(&mut conn, "banggai.kadis");
        drop(conn);

        // The secretariat numbers letters on four desks at once; the server is killed under
        // them, until a kill has caught a letter numbered but not yet rendered with its number.
        let mut caught = Vec::new();
        for round in 0..8 {
            let server = Arc::new(crate::tte::server(db, &[], None));
            let batch: Vec<naskah::ids::LetterId> = drafts.drain(..drafts.len().min(10)).collect();
            assert!(!batch.is_empty(), "no kill caught a letter in between after {round} rounds");
            let desks: Vec<_> = batch
                .chunks(batch.len().div_ceil(4))
                .map(|letters| {
                    let (server, token, letters) = (server.clone(), secretary.clone(), letters.to_vec());
                    std::thread::spawn(move || {
                        for letter in letters {
                            let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
                            let sent = agent
                                .post(&format!("http://{}/api/v1/letters/{letter}/number", server.addr))
                                .header("Authorization", &format!("Bearer {token}"))
                                .header("Content-Type", "application/json")
                                .send(serde_json::json!({ "register": "keluar" }).to_string().as_bytes());
                            if sent.is_err() {
                                break;
                            }
                        }
                    })
                })
                .collect();
            // Killed the moment a letter stands numbered without its numbered PDF.
            let deadline = Instant::now() + Duration::from_secs(30);
            while torn(&pool).is_empty() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            let pid = server.child.id().to_string();
            assert!(Command::new("kill").args(["-KILL", &pid]).status().expect("kill").success());
            for desk in desks {
                desk.join().expect("desk");
            }
            caught = torn(&pool);
            if !caught.is_empty() {
                break;
            }
        }
        assert!(!caught.is_empty(), "no kill caught a letter between its number and its PDF");

        // A signing job killed halfway.
        let server = crate::tte::server(db, &[], None);
        let (code, started) = crate::tte::post(&server, "/api/v1/signing-jobs", &kadis, &serde_json::json!({ "passphrase": crate::signing::passphrase("banggai.kadis"), "letters": to_sign }));
        assert_eq!(code, 202, "{started}");
        let job = started["job"].as_i64().expect("a job");
        std::thread::sleep(Duration::from_millis(300));
        let (_, text) = crate::common::get_with(&format!("http://{}/api/v1/jobs/{job}", server.addr), &kadis);
        assert!(text.contains("\"status\":\"running\""), "the job should still run when killed: {text}");
        drop(server);

        // At the next start, before it serves, every numbered letter has its number printed.
        let server = crate::tte::server(db, &[], None);
        assert!(torn(&pool).is_empty(), "{:?}", torn(&pool));
        let dir = tempfile::tempdir().expect("tempdir");
        let mut conn = pool.get().expect("connection");
        for letter in caught {
            let (number, _) = naskah::numbering::number_of(&mut conn, letter).expect("query").expect("a number");
            let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
            let mut response = agent
                .get(&format!("http://{}/api/v1/letters/{letter}/pdf", server.addr))
                .header("Authorization", &format!("Bearer {secretary}"))
                .call()
                .expect("pdf");
            assert_eq!(response.status().as_u16(), 200);
            let pdf = response.body_mut().with_config().limit(64 << 20).read_to_vec().expect("body");
            let path = dir.path().join(format!("{letter}.pdf"));
            std::fs::write(&path, pdf).expect("write");
            let text = crate::common::tool("pdftotext", &[path.to_str().expect("path"), "-"]);
            let text = String::from_utf8_lossy(&text.stdout);
            assert!(text.contains(&number), "letter {letter} lacks {number}:\n{text}");
        }
        // The killed job no longer holds the kadis' next one back, and says it stopped.
        let (status, text) = crate::common::get_with(&format!("http://{}/api/v1/jobs/{job}", server.addr), &kadis);
        assert_eq!(status, 200, "{text}");
        let old: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(old["status"], "stopped", "{old}");
        assert!(old["message"].as_str().is_some_and(|m| m.contains("dimulai ulang")), "{old}");
        let (code, again) = crate::tte::post(&server, "/api/v1/signing-jobs", &kadis, &serde_json::json!({ "passphrase": crate::signing::passphrase("banggai.kadis"), "letters": to_sign }));
        assert_eq!(code, 202, "{again}");
    }
}

/// Sends the head of a request that says `length` bytes follow, then only `prefix` of them,
/// and waits up to five seconds for an answer: the status, or 0 when none came (the server
/// waits for the rest of the body).
fn answer_before_the_body(
    server: std::net::SocketAddr,
    head: &str,
    length: usize,
    prefix: &[u8],
) -> u16 {
    use std::io::{BufRead, BufReader};
    let mut stream = std::net::TcpStream::connect(server).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    write!(
        stream,
        "{head}\r\nHost: {server}\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
    )
    .expect("head");
    stream.write_all(prefix).expect("prefix");
    let mut line = String::new();
    match BufReader::new(stream).read_line(&mut line) {
        Ok(_) => line
            .split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0),
        Err(_) => 0,
    }
}

/// A session of `username` (password set and signed in as the pages do): its cookie header
/// and CSRF token.
fn session_of(pool: &naskah::db::Db, username: &str) -> (String, String) {
    let mut conn = pool.get().expect("connection");
    let who = crate::tte::person(&mut conn, username).id;
    naskah::accounts::set_password(&mut conn, who, "kata-sandi-uji-1", None).expect("password");
    match naskah::accounts::sign_in(
        &mut conn,
        username,
        "kata-sandi-uji-1",
        "127.0.0.9",
        naskah::db::now(),
    )
    .expect("sign in")
    {
        naskah::accounts::SignIn::In(session) => {
            (format!("naskah_sesi={}", session.token), session.csrf)
        }
        other => panic!("{username} does not sign in: {other:?}"),
    }
}

#[test]
fn uploads_are_judged_before_they_are_read_and_kept_once() {
    use diesel::prelude::*;
    let db = TestDb::new(crate::common::Backend::Sqlite);
    let pool = crate::tte::setup(&db);
    let mut conn = pool.get().expect("connection");
    let applicant = banggai_applicant(&mut conn);
    let token = crate::tte::token(&mut conn, &applicant);
    drop(conn);
    let (auditor_cookie, auditor_csrf) = session_of(&pool, "banggai.auditor");
    let (cookie, _) = session_of(&pool, &applicant);
    let server = crate::tte::server(&db, &[], None);
    let (code, filed) = crate::tte::post(
        &server,
        "/api/v1/offices/banggai/requests",
        &token,
        &serde_json::json!({ "application_name": "SIMPUS", "subdomain": "simpus" }),
    );
    assert_eq!(code, 201, "{filed}");
    let request = filed["id"].as_i64().expect("an id");

    // 154 MB announced by an auditor, who may not file: refused with only its first bytes sent.
    let boundary = "batas-uji";
    let first_part = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{auditor_csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"office\"\r\n\r\nbanggai\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"lampiran_manual_book\"; \
         filename=\"a.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\n"
    );
    let head = |path: &str, cookie: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nCookie: {cookie}\r\n\
             Content-Type: multipart/form-data; boundary={boundary}"
        )
    };
    assert_eq!(
        answer_before_the_body(
            server.addr,
            &head("/permohonan", &auditor_cookie),
            154 << 20,
            first_part.as_bytes()
        ),
        403
    );
    // The applicant with a forged token: refused at the token, before the file.
    let forged = first_part.replace(&auditor_csrf, "token-palsu");
    assert_eq!(
        answer_before_the_body(
            server.addr,
            &head("/permohonan", &cookie),
            100 << 20,
            forged.as_bytes()
        ),
        403
    );
    let forged_item = forged.replace(
        "name=\"office\"\r\n\r\nbanggai",
        "name=\"item\"\r\n\r\nmanual_book",
    );
    assert_eq!(
        answer_before_the_body(
            server.addr,
            &head(&format!("/permohonan/{request}/berkas"), &cookie),
            10 << 20,
            forged_item.as_bytes()
        ),
        403
    );
    // The auditor's file for another's request, through the API: refused before the body.
    let mut conn = pool.get().expect("connection");
    let auditor_token = crate::tte::token(&mut conn, "banggai.auditor");
    drop(conn);
    assert_eq!(
        answer_before_the_body(
            server.addr,
            &format!(
                "POST /api/v1/requests/{request}/attachments/manual_book HTTP/1.1\r\n\
                 Authorization: Bearer {auditor_token}\r\nContent-Type: application/pdf"
            ),
            10 << 20,
            b"%PDF-1.7\n"
        ),
        403
    );
    // More than the limit says so at once.
    assert_eq!(
        answer_before_the_body(
            server.addr,
            &format!(
                "POST /api/v1/requests/{request}/attachments/manual_book HTTP/1.1\r\n\
                 Authorization: Bearer {token}\r\nContent-Type: application/pdf"
            ),
            200 << 20,
            b"%PDF-1.7\n"
        ),
        413
    );

    let attach = |name: &str, bytes: &[u8]| -> (u16, String) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut response = agent
            .post(&format!(
                "http://{}/api/v1/requests/{request}/attachments/manual_book?name={name}",
                server.addr
            ))
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", "application/pdf")
            .send(bytes)
            .expect("response");
        (
            response.status().as_u16(),
            response.body_mut().read_to_string().unwrap_or_default(),
        )
    };
    // Anything that merely starts like a PDF is not one.
    let (code, answer) = attach(
        "halaman.pdf",
        b"%PDF-1.7\n<html><body>bukan PDF</body></html>",
    );
    assert_eq!(code, 422, "{answer}");
    assert!(answer.contains("dapat dibaca"), "{answer}");
    // The same real PDF five times is kept once.
    let pdf = crate::signing::sample(naskah::letters::LetterKind::SuratRekomendasi);
    for _ in 0..5 {
        let (code, answer) = attach("manual.pdf", &pdf);
        assert_eq!(code, 204, "{answer}");
    }
    let mut conn = pool.get().expect("connection");
    use naskah::db::schema::request_items;
    let kept: i64 = request_items::table
        .filter(request_items::request_id.eq(request))
        .filter(request_items::content.is_not_null())
        .count()
        .get_result(&mut conn)
        .expect("items");
    assert_eq!(kept, 1);
}

#[test]
fn the_probes_minor_findings_are_refused_in_words() {
    let db = TestDb::new(crate::common::Backend::Sqlite);
    let pool = crate::tte::setup(&db);
    let mut conn = pool.get().expect("connection");
    let applicant = banggai_applicant(&mut conn);
    let token = crate::tte::token(&mut conn, &applicant);
    let secretary = crate::tte::token(&mut conn, "banggai.sekretariat");
    drop(conn);
    let server = crate::tte::server(&db, &[], None);
    let post = |path: &str, token: &str, body: &Value| crate::tte::post(&server, path, token, body);

    // JSON past 64 KiB is too large, not unreadable.
    let (code, answer) = post(
        "/api/v1/offices/banggai/requests",
        &token,
        &serde_json::json!({ "application_name": "x".repeat(70_000) }),
    );
    assert_eq!(
        (code, answer["error"]["code"].as_str()),
        (413, Some("too_large")),
        "{answer}"
    );
    // A NUL byte in a name is refused, not stored.
    let (code, answer) = post(
        "/api/v1/offices/banggai/requests",
        &token,
        &serde_json::json!({ "application_name": "SIM\u{0}PUS" }),
    );
    assert_eq!(code, 422, "{answer}");
    assert!(answer.to_string().contains("karakter kendali"), "{answer}");

    // Filed without the optional subdomain: the permohonan's draft asks for it.
    let (code, filed) = post(
        "/api/v1/offices/banggai/requests",
        &token,
        &serde_json::json!({ "application_name": "SIMPUS" }),
    );
    assert_eq!(code, 201, "{filed}");
    let request = filed["id"].as_i64().expect("an id");
    let (status, text) = crate::common::get_with(
        &format!(
            "http://{}/api/v1/requests/{request}/letters/draft/surat_permohonan",
            server.addr
        ),
        &token,
    );
    assert_eq!(status, 200, "{text}");
    let mut draft: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(draft["subdomain"], "", "{draft}");
    // Left blank, the letter is refused naming the field; filled in, it is made.
    let (code, answer) = post(
        &format!("/api/v1/requests/{request}/letters"),
        &token,
        &serde_json::json!({ "kind": "surat_permohonan", "fields": draft }),
    );
    assert_eq!(code, 422, "{answer}");
    assert!(answer.to_string().contains("subdomain"), "{answer}");
    draft["subdomain"] = "simpus".into();
    let (code, answer) = post(
        &format!("/api/v1/requests/{request}/letters"),
        &token,
        &serde_json::json!({ "kind": "surat_permohonan", "fields": draft.clone() }),
    );
    assert_eq!(code, 201, "{answer}");
    // A control character in a letter's field is named, not an internal error.
    draft["hal"] = "Permohonan\u{1b}[31m".into();
    let (code, answer) = post(
        &format!("/api/v1/requests/{request}/letters"),
        &token,
        &serde_json::json!({ "kind": "surat_permohonan", "fields": draft }),
    );
    assert_eq!(code, 422, "{answer}");
    assert!(answer.to_string().contains("isian hal"), "{answer}");

    // Reservations a century back or far ahead are refused.
    for date in ["1900-01-01", "9999-12-31"] {
        let (code, answer) = post(
            "/api/v1/offices/banggai/registers/keluar/reservations",
            &secretary,
            &serde_json::json!({ "count": 2, "date": date, "reason": "uji" }),
        );
        assert_eq!(code, 422, "{date}: {answer}");
        assert!(
            answer.to_string().contains("tidak dapat diberi nomor"),
            "{answer}"
        );
    }
}

/// POSTs `body` to the public verification from `source`, with `headers`; the status and the
/// Retry-After header.
fn verify_from(
    source: &str,
    server: std::net::SocketAddr,
    headers: &str,
    body: &[u8],
) -> (u16, Option<String>) {
    use std::io::{BufRead, BufReader};
    let mut stream = connect_from(source, server);
    write!(
        stream,
        "POST /api/v1/verify HTTP/1.1\r\nHost: {server}\r\n{headers}Content-Type: application/pdf\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .expect("send");
    stream.write_all(body).expect("body");
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).expect("status");
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let mut retry = None;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("retry-after")
        {
            retry = Some(value.trim().to_owned());
        }
    }
    (status, retry)
}

#[test]
fn public_verification_is_limited_per_client_address() {
    let junk = b"%PDF-1.7\nbukan isi PDF\n";
    for trusted in [false, true] {
        let db = TestDb::new(crate::common::Backend::Sqlite);
        let mut command = naskah(db.dir.path());
        command
            .env("NASKAH_DATABASE_URL", &db.url)
            .args(["serve", "--bind", "127.0.0.1:0"]);
        if trusted {
            command.env("NASKAH_TRUSTED_PROXIES", "127.0.0.1");
        }
        let server = Server::start(command);
        let addr = server.addr;
        // What a client says of itself counts only behind a trusted proxy.
        let forwarded = "X-Forwarded-For: 10.9.9.9\r\n";
        let codes: Vec<u16> = (0..30)
            .map(|_| verify_from("127.0.0.1", addr, forwarded, junk).0)
            .collect();
        assert!(codes.iter().all(|c| *c == 422), "{codes:?}");
        let (status, retry) = verify_from("127.0.0.1", addr, forwarded, junk);
        assert_eq!(status, 429);
        assert!(retry.is_some_and(|s| s.parse::<u64>().is_ok_and(|s| (1..=3).contains(&s))));
        // Another client is not held back by the first.
        let other = if trusted {
            verify_from("127.0.0.1", addr, "X-Forwarded-For: 10.9.9.10\r\n", junk).0
        } else {
            verify_from("127.0.0.2", addr, "", junk).0
        };
        assert_eq!(other, 422, "trusted proxy: {trusted}");
        // Nor is the health check, nor a signed-in page.
        assert_eq!(server.get("/healthz").0, 200);
    }
}
