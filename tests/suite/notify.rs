//! Notifications: webhooks signed with HMAC and retried with back-off, e-mail through SMTP,
//! the applicant's inbox; delivered once per receiver across crashes and several processes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{Server, naskah, on_both_backends};

const SECRET: &str = "rahasia-webhook-uji-0123456789";

/// One call a receiver got.
#[derive(Clone, Debug)]
struct Call {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    answered: u16,
}

impl Call {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map_or("", |(_, v)| v.as_str())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    /// Whether its signature is the HMAC-SHA256 of `timestamp.body` under `secret`.
    fn signed_with(&self, secret: &str) -> bool {
        let key = openssl::pkey::PKey::hmac(secret.as_bytes()).expect("key");
        let mut signer =
            openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &key).expect("hmac");
        signer
            .update(self.header("X-Naskah-Timestamp").as_bytes())
            .expect("hmac");
        signer.update(b".").expect("hmac");
        signer.update(&self.body).expect("hmac");
        let mac = signer.sign_to_vec().expect("hmac");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        self.header("X-Naskah-Signature") == format!("sha256={hex}")
    }
}

/// A webhook receiver on loopback that keeps every call.
struct Receiver {
    url: String,
    calls: Arc<Mutex<Vec<Call>>>,
    /// A status to answer every call with; 0: 500 to a notification's first call, 200 after.
    status: Arc<AtomicU16>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/naskah", listener.local_addr().expect("addr"));
        let calls: Arc<Mutex<Vec<Call>>> = Arc::default();
        let status = Arc::new(AtomicU16::new(0));
        let (kept, mode) = (calls.clone(), status.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = answer(stream, &kept, &mode);
            }
        });
        Receiver { url, calls, status }
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.lock().expect("calls").clone()
    }
}

fn answer(stream: TcpStream, calls: &Mutex<Vec<Call>>, mode: &AtomicU16) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        reader.read_line(&mut line)?;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((k, v)) = trimmed.split_once(':') {
            headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let mut calls = calls.lock().expect("calls");
    let notification = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("x-naskah-notification"))
        .map(|(_, v)| v.clone());
    let status = match mode.load(Ordering::SeqCst) {
        0 if calls
            .iter()
            .any(|c| Some(c.header("X-Naskah-Notification").to_owned()) == notification) =>
        {
            200
        }
        0 => 500,
        fixed => fixed,
    };
    calls.push(Call {
        headers,
        body,
        answered: status,
    });
    drop(calls);
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )?;
    stream.flush()
}

/// A message as an SMTP server got it: its recipients and its text.
type Mail = (Vec<String>, String);

/// An SMTP server on loopback that accepts every message and keeps it.
struct Smtp {
    port: u16,
    messages: Arc<Mutex<Vec<Mail>>>,
}

impl Smtp {
    fn start() -> Smtp {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let messages: Arc<Mutex<Vec<Mail>>> = Arc::default();
        let kept = messages.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = converse(stream, &kept);
            }
        });
        Smtp { port, messages }
    }
}

fn converse(
    stream: TcpStream,
    messages: &Mutex<Vec<(Vec<String>, String)>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    out.write_all(b"220 uji ESMTP\r\n")?;
    let mut recipients = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        if command.starts_with("EHLO") || command.starts_with("HELO") {
            out.write_all(b"250-uji\r\n250 8BITMIME\r\n")?;
        } else if command.starts_with("RCPT TO:") {
            recipients.push(line.trim_end()[8..].trim().to_owned());
            out.write_all(b"250 OK\r\n")?;
        } else if command == "DATA" {
            out.write_all(b"354 go on\r\n")?;
            let mut data = String::new();
            loop {
                line.clear();
                reader.read_line(&mut line)?;
                if line == ".\r\n" || line.is_empty() {
                    break;
                }
                data.push_str(&line);
            }
            messages
                .lock()
                .expect("messages")
                .push((std::mem::take(&mut recipients), data));
            out.write_all(b"250 kept\r\n")?;
        } else if command == "QUIT" {
            out.write_all(b"221 bye\r\n")?;
            return Ok(());
        } else {
            out.write_all(b"250 OK\r\n")?;
        }
    }
}

/// `serve --demo` with a webhook and an SMTP server: the demo's finished requests announce
/// every signed letter and every finished request to the webhook, signed with its secret,
/// retried after the receiver's first refusal, and to the applicant by e-mail; the applicant's
/// inbox holds the notices; the secret never reaches the log.
#[test]
fn the_demo_chain_reaches_the_webhook_signed_and_retried_and_the_applicant_by_email() {
    use diesel::prelude::*;
    use naskah::db::schema::{inbox, letters, notification_deliveries as deliveries, people};
    let receiver = Receiver::start();
    let smtp = Smtp::start();
    let db = crate::common::TestDb::new(crate::common::Backend::Sqlite);
    let mut command = naskah(db.dir.path());
    command
        .env("NASKAH_DATABASE_URL", &db.url)
        .env("NASKAH_PKI_DIR", &crate::signing::pki().dir)
        .env("NASKAH_WEBHOOK_URL", &receiver.url)
        .env("NASKAH_WEBHOOK_SECRET", SECRET)
        .env("NASKAH_NOTIFY_RETRY_SECONDS", "1")
        .env(
            "NASKAH_SMTP_URL",
            format!("smtp+insecure://127.0.0.1:{}", smtp.port),
        )
        .env(
            "NASKAH_MAIL_FROM",
            "naskah <naskah@diskominfo.example.go.id>",
        )
        .args(["serve", "--demo", "--bind", "127.0.0.1:0"]);
    let server = Server::start(command);
    let pool = db.open();
    let mut conn = pool.get().expect("connection");

    // The demo signs every letter of the Dinas in five requests and finishes them; each of
    // those is one webhook delivery and one e-mail, all delivered in the end.
    let deadline = Instant::now() + Duration::from_secs(300);
    let (signed, finished, outward) = loop {
        let signed: i64 = letters::table
            .filter(letters::status.eq("signed"))
            .filter(letters::request_id.is_not_null())
            .count()
            .get_result(&mut *conn)
            .expect("letters");
        let finished: i64 = naskah::db::schema::requests::table
            .filter(naskah::db::schema::requests::status.eq("finished"))
            .count()
            .get_result(&mut *conn)
            .expect("requests");
        let undelivered: i64 = deliveries::table
            .filter(deliveries::status.ne("delivered"))
            .count()
            .get_result(&mut *conn)
            .expect("deliveries");
        let delivered: i64 = deliveries::table
            .count()
            .get_result(&mut *conn)
            .expect("deliveries");
        // The applicant hears by e-mail of the letters that go to their agency only.
        let outward: i64 = letters::table
            .filter(letters::status.eq("signed"))
            .filter(letters::request_id.is_not_null())
            .filter(letters::kind.eq_any(outward_kinds()))
            .count()
            .get_result(&mut *conn)
            .expect("letters");
        if finished == 5 && delivered == signed + finished + outward + finished && undelivered == 0
        {
            break (signed, finished, outward);
        }
        assert!(
            Instant::now() < deadline,
            "signed {signed}, finished {finished}, deliveries {delivered}, undelivered {undelivered}"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let events = usize::try_from(signed + finished).expect("count");
    assert!(signed >= 15, "{signed} letters signed");

    // Every webhook call is signed with the secret; every notification was refused once and
    // delivered on its second call; each carries what a receiver needs.
    let calls = receiver.calls();
    assert_eq!(calls.len(), 2 * events, "a refusal and a retry each");
    assert!(calls.iter().all(|c| c.signed_with(SECRET)), "all signed");
    assert!(!calls[0].signed_with("another secret of thirty bytes"));
    let delivered: Vec<&Call> = calls.iter().filter(|c| c.answered == 200).collect();
    assert_eq!(delivered.len(), events);
    let mut names: Vec<String> = delivered
        .iter()
        .map(|c| c.header("X-Naskah-Notification").to_owned())
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), events, "one delivery per notification");
    let attempts: Vec<i32> = deliveries::table
        .filter(deliveries::channel.eq("webhook"))
        .select(deliveries::attempts)
        .load(&mut *conn)
        .expect("attempts");
    assert!(attempts.iter().all(|a| *a == 2), "{attempts:?}");
    let finished_calls: Vec<serde_json::Value> = delivered
        .iter()
        .filter(|c| c.header("X-Naskah-Event") == "request.finished")
        .map(|c| c.json())
        .collect();
    assert_eq!(finished_calls.len(), 5);
    for call in &finished_calls {
        assert_eq!(call["event"], "request.finished");
        assert_eq!(call["data"]["request"]["status"], "finished");
        assert!(call["data"]["office"].is_string() && call["occurred_at"].is_string());
    }
    let signed_calls: Vec<serde_json::Value> = delivered
        .iter()
        .filter(|c| c.header("X-Naskah-Event") == "letter.signed")
        .map(|c| c.json())
        .collect();
    for call in &signed_calls {
        let letter = &call["data"]["letter"];
        assert!(
            letter["number"].is_string() && letter["public_id"].is_string(),
            "{call}"
        );
        assert_ne!(letter["kind"], "surat_permohonan");
    }

    // One e-mail per finished request and per signed letter that goes to the applicant's
    // agency, to the applicant who filed the request; none of the Dinas's working papers.
    let messages = smtp.messages.lock().expect("messages").clone();
    assert!(outward >= 5 && outward < signed, "{outward} of {signed}");
    assert_eq!(
        messages.len(),
        usize::try_from(outward + finished).expect("count")
    );
    assert!(
        !messages
            .iter()
            .any(|(_, data)| data.contains("Lembar Disposisi")),
        "no e-mail of a disposition"
    );
    let banggai: String = people::table
        .filter(people::username.eq("banggai.pemohon"))
        .select(people::email)
        .first::<Option<String>>(&mut *conn)
        .expect("applicant")
        .expect("an address");
    let to_banggai: Vec<&Mail> = messages
        .iter()
        .filter(|(to, _)| to.iter().any(|t| t.contains(&banggai)))
        .collect();
    assert!(
        to_banggai
            .iter()
            .any(|(_, data)| data.contains("Subject: [naskah] Permohonan")
                && data.contains("selesai diproses")),
        "{to_banggai:?}"
    );
    assert!(
        to_banggai
            .iter()
            .any(|(_, data)| data.contains("telah ditandatangani")
                && data.contains("/verifikasi/")),
        "{to_banggai:?}"
    );

    // The applicant's inbox holds the same notices, linked to the request.
    let notices: Vec<(String, Option<i64>)> = inbox::table
        .inner_join(people::table)
        .filter(people::username.eq("banggai.pemohon"))
        .select((inbox::kind, inbox::request_id))
        .load::<(String, Option<naskah::ids::RequestId>)>(&mut *conn)
        .expect("inbox")
        .into_iter()
        .map(|(kind, request)| (kind, request.map(|r| r.0)))
        .collect();
    assert!(notices.iter().all(|(_, request)| request.is_some()));
    assert!(notices.iter().any(|(kind, _)| kind == "letter.signed"));
    assert_eq!(
        notices
            .iter()
            .filter(|(kind, _)| kind == "request.finished")
            .count(),
        1
    );
    drop(conn);
    let (_, log) = server.terminate();
    assert!(!log.contains(SECRET), "the secret stays out of the log");
    assert!(
        log.contains("notification not delivered"),
        "refusals are logged"
    );
}

/// The kinds of letter that go to the applicant's agency, as their ids.
fn outward_kinds() -> Vec<&'static str> {
    naskah::letters::LetterKind::ALL
        .iter()
        .filter(|k| k.to_applicant())
        .map(|k| k.id())
        .collect()
}

/// Settings for the worker driven by hand: one webhook to `url`.
fn settings(url: &str) -> naskah::notify::worker::Settings {
    naskah::notify::worker::Settings {
        webhooks: vec![
            naskah::notify::webhook::Webhook::new(url, SECRET, Vec::new(), Vec::new())
                .expect("webhook"),
        ],
        mail: None,
        public_url: "http://127.0.0.1:8080".into(),
        retry: Duration::from_secs(30),
    }
}

// A delivery claimed by a process that died mid-call is sent by another once its lease is
// over, not before; two processes passing at once call once; a receiver that keeps refusing
// is given up after ten attempts, with the wait doubling between them.
on_both_backends! {
    fn deliveries_survive_a_crash_are_made_once_and_are_given_up_in_the_end(db) {
        use diesel::prelude::*;
        use naskah::db::schema::{notification_deliveries as deliveries, requests};
        use naskah::notify::worker::{MAX_ATTEMPTS, Pass, pass};
        use chrono::TimeDelta;
        let receiver = Receiver::start();
        let pool = db.open();
        let mut conn = pool.get().expect("connection");
        naskah::db::migrate::run_pending(&mut conn).expect("migrate");
        naskah::demo::create(&mut conn).expect("demo");
        let office = naskah::office::find_by_code(&mut conn, "banggai")
            .expect("query")
            .expect("office");
        naskah::reports::synthetic::generate(&mut conn, &office, 2026, 3, 1).expect("requests");
        let ids: Vec<naskah::ids::RequestId> = requests::table
            .select(requests::id)
            .order(requests::id)
            .load(&mut *conn)
            .expect("requests");
        let settings = settings(&receiver.url);
        let t0 = naskah::db::now();
        let state = |conn: &mut naskah::db::DbConn| {
            deliveries::table
                .order(deliveries::id.desc())
                .select((deliveries::status, deliveries::attempts, deliveries::last_error))
                .first::<(String, i32, Option<String>)>(conn)
                .expect("a delivery")
        };

        // An event made out while no webhook is configured has no delivery, and a webhook
        // configured later does not get it: it is past.
        naskah::notify::request_finished(&mut conn, ids[0], t0).expect("event");
        let none = naskah::notify::worker::Settings { webhooks: Vec::new(), ..settings.clone() };
        assert_eq!(pass(&pool, &none, t0).expect("pass"), Pass::default());
        assert_eq!(pass(&pool, &settings, t0).expect("pass"), Pass::default());

        // The first call is refused; the next is due 30 s later. A process claims it then
        // and dies before it calls: nobody calls while its lease runs, another process calls
        // when it is over.
        receiver.status.store(503, Ordering::SeqCst);
        naskah::notify::request_finished(&mut conn, ids[1], t0).expect("event");
        let first = pass(&pool, &settings, t0).expect("pass");
        assert_eq!((first.made_out, first.failed_attempts), (1, 1));
        assert_eq!(state(&mut conn), ("pending".into(), 1, Some("HTTP 503".into())));
        let claimed_at = t0 + TimeDelta::seconds(30);
        diesel::update(deliveries::table)
            .filter(deliveries::attempts.eq(1))
            .set((
                deliveries::attempts.eq(2),
                deliveries::next_attempt_at.eq(claimed_at + TimeDelta::seconds(60)),
            ))
            .execute(&mut *conn)
            .expect("claim");
        receiver.status.store(200, Ordering::SeqCst);
        let during = pass(&pool, &settings, claimed_at + TimeDelta::seconds(59)).expect("pass");
        assert_eq!(during, Pass::default(), "the lease holds");
        let after = pass(&pool, &settings, claimed_at + TimeDelta::seconds(60)).expect("pass");
        assert_eq!(after.delivered, 1, "sent once the lease is over");
        assert_eq!(state(&mut conn), ("delivered".into(), 3, None));
        assert_eq!(receiver.calls().len(), 2);

        // Two processes passing at once: one call.
        naskah::notify::request_finished(&mut conn, ids[2], t0).expect("event");
        let racers: Vec<_> = (0..2)
            .map(|_| {
                let (pool, settings) = (pool.clone(), settings.clone());
                std::thread::spawn(move || pass(&pool, &settings, t0).expect("pass"))
            })
            .collect();
        let done: Vec<Pass> = racers.into_iter().map(|r| r.join().expect("racer")).collect();
        assert_eq!(done.iter().map(|d| d.made_out).sum::<usize>(), 1, "{done:?}");
        assert_eq!(done.iter().map(|d| d.delivered).sum::<usize>(), 1, "{done:?}");
        assert_eq!(receiver.calls().len(), 3);

        // A receiver that keeps refusing: ten attempts, each wait twice the one before (six
        // hours at most), none before its time, then given up.
        receiver.status.store(500, Ordering::SeqCst);
        naskah::notify::request_finished(&mut conn, ids[0], t0).expect("event");
        let mut now = t0;
        let mut waits = Vec::new();
        for attempt in 1..=MAX_ATTEMPTS {
            let done = pass(&pool, &settings, now).expect("pass");
            assert_eq!(done.failed_attempts, 1, "attempt {attempt}");
            let next: chrono::NaiveDateTime = deliveries::table
                .order(deliveries::id.desc())
                .select(deliveries::next_attempt_at)
                .first(&mut *conn)
                .expect("next");
            waits.push((next - now).num_seconds());
            let early = pass(&pool, &settings, next - TimeDelta::seconds(1)).expect("pass");
            assert_eq!(early, Pass::default(), "attempt {attempt} waits");
            now = next;
        }
        assert_eq!(waits[..9], [30, 60, 120, 240, 480, 960, 1920, 3840, 7680]);
        assert_eq!(state(&mut conn), ("failed".into(), 10, Some("HTTP 500".into())));
        let later = pass(&pool, &settings, now + TimeDelta::days(1)).expect("pass");
        assert_eq!(later, Pass::default(), "nothing more is tried");
        assert_eq!(receiver.calls().len(), 13);
        assert!(receiver.calls().iter().all(|c| c.signed_with(SECRET)));
    }
}
