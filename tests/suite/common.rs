//! What the tests share: a fresh database per test on either backend, and the real `naskah`
//! binary started as a server.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};
use naskah::config::DatabaseUrl;
use naskah::db::Db;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server the suite creates its databases on, as a URL to its maintenance
/// database. The README's test line makes sure a server answers there.
pub fn postgres_admin_url() -> String {
    std::env::var("NASKAH_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A database that exists for one test: a SQLite file in a temporary directory, or a
/// PostgreSQL database created for it and dropped when the test ends.
pub struct TestDb {
    /// The URL naskah is given.
    pub url: String,
    /// A temporary directory the test may use as naskah's data directory.
    pub dir: tempfile::TempDir,
    pg_name: Option<String>,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl TestDb {
    pub fn new(backend: Backend) -> TestDb {
        let dir = tempfile::tempdir().expect("a temporary directory");
        match backend {
            Backend::Sqlite => {
                let url = format!("sqlite://{}", dir.path().join("naskah.sqlite3").display());
                TestDb {
                    url,
                    dir,
                    pg_name: None,
                }
            }
            Backend::Postgres => {
                let name = format!(
                    "naskah_test_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst),
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.subsec_nanos())
                        .unwrap_or(0)
                );
                let admin = postgres_admin_url();
                let mut conn = PgConnection::establish(&admin).unwrap_or_else(|e| {
                    panic!("PostgreSQL must answer at {admin} for the suite (see README): {e}")
                });
                conn.batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("CREATE DATABASE");
                let url = replace_database(&admin, &name);
                TestDb {
                    url,
                    dir,
                    pg_name: Some(name),
                }
            }
        }
    }

    pub fn database_url(&self) -> DatabaseUrl {
        DatabaseUrl::parse(&self.url).expect("a test URL parses")
    }

    /// Opens the database through naskah's own pool, without migrating it.
    pub fn open(&self) -> Db {
        Db::open(&self.database_url(), 4).expect("the test database opens")
    }

    /// Drops a PostgreSQL test database now, ending its connections (a database that vanishes
    /// under a running server).
    pub fn drop_now(&self) {
        if let Some(name) = &self.pg_name
            && let Ok(mut conn) = PgConnection::establish(&postgres_admin_url())
        {
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        self.drop_now();
    }
}

/// `postgres://user@host:port/db?params` with another database name.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let prefix = base.rsplit_once('/').map_or(base, |(prefix, _)| prefix);
    match query {
        Some(query) => format!("{prefix}/{name}?{query}"),
        None => format!("{prefix}/{name}"),
    }
}

/// Defines a test for each backend: `mod NAME { fn sqlite(); fn postgres(); }`.
macro_rules! on_both_backends {
    ($(fn $name:ident($db:ident) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            use $crate::common::{Backend, TestDb};

            fn body($db: &TestDb) $body

            #[test]
            fn sqlite() {
                body(&TestDb::new(Backend::Sqlite));
            }

            #[test]
            fn postgres() {
                body(&TestDb::new(Backend::Postgres));
            }
        }
    )*};
}
pub(crate) use on_both_backends;

/// The `naskah` binary with a clean environment: no configuration leaks in from the machine.
pub fn naskah(data_dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_naskah"));
    for (name, _) in std::env::vars() {
        if name.starts_with("NASKAH_") || name == "DATABASE_URL" {
            command.env_remove(name);
        }
    }
    command
        .env("NASKAH_DATA_DIR", data_dir)
        .env("NASKAH_LOG", "info")
        .env("RUST_BACKTRACE", "1")
        .stdin(Stdio::null());
    command
}

/// A running `naskah serve`, stopped with SIGTERM (or killed) when dropped.
pub struct Server {
    pub child: Child,
    pub addr: SocketAddr,
    stderr: Option<std::thread::JoinHandle<String>>,
}

impl Server {
    /// Starts `command` (a `naskah serve` with `--bind 127.0.0.1:0`) and waits for the line
    /// that names its address.
    pub fn start(mut command: Command) -> Server {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("naskah starts");
        let stderr = child.stderr.take().expect("stderr is piped");
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = BufReader::new(stderr).read_to_string(&mut text);
            text
        });
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("read stdout");
        let Some(addr) = line.trim().strip_prefix("naskah listening on http://") else {
            let _ = child.kill();
            let stderr = stderr.join().unwrap_or_default();
            panic!("naskah did not start: stdout {line:?}, stderr:\n{stderr}");
        };
        let addr = addr.parse().expect("an address");
        Server {
            child,
            addr,
            stderr: Some(stderr),
        }
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        get(&format!("http://{}{}", self.addr, path))
    }

    /// Sends SIGTERM and waits for the process to end; returns its exit status and stderr.
    pub fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(sent.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(
                Instant::now() < deadline,
                "naskah did not stop within 20 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let stderr = self.stderr.take().map(|t| t.join().unwrap_or_default());
        (status, stderr.unwrap_or_default())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A GET with a bearer token that reports any status.
pub fn get_with(url: &str, token: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .get(url)
        .header("Authorization", &format!("Bearer {token}"))
        .call()
        .expect("response");
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_to_string().unwrap_or_default(),
    )
}

/// A GET that reports any status (an error status is an answer, not a failure).
pub fn get(url: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into();
    let mut response = agent
        .get(url)
        .call()
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    (status, body)
}

/// The crate's root, for tests that read its source files.
pub fn crate_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs an outside tool (poppler, qpdf, pyHanko, certutil); the README's test line installs
/// them, and a test that needs one fails when it is missing.
pub fn tool(program: &str, args: &[&str]) -> std::process::Output {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("{program} is needed by this test (installed by scripts/test.sh): {e}")
        })
}

/// `pdf` with `content` drawn on its first page by an incremental update appended after it,
/// as any PDF tool could (an incremental saving attack on a signed file).
pub fn draw_on_first_page(pdf: &[u8], content: &[u8]) -> Vec<u8> {
    use lopdf::Object;
    let document = lopdf::Document::load_mem(pdf).expect("loads");
    let page = *document.get_pages().get(&1).expect("page 1");
    let mut update = lopdf::IncrementalDocument::create_from(pdf.to_vec(), document);
    let stamp = update.new_document.add_object(lopdf::Stream::new(
        lopdf::Dictionary::new(),
        content.to_vec(),
    ));
    update.opt_clone_object_to_new_document(page).expect("page");
    let dict = update
        .new_document
        .get_object_mut(page)
        .and_then(Object::as_dict_mut)
        .expect("page");
    let mut contents = match dict.get(b"Contents").expect("contents").clone() {
        Object::Array(items) => items,
        one => vec![one],
    };
    contents.push(Object::Reference(stamp));
    dict.set("Contents", contents);
    let mut out = Vec::new();
    update.save_to(&mut out).expect("save");
    out
}

/// Letter settings for tests: the public address printed in QR codes and the issuer named
/// in the footer.
pub fn letter_settings() -> naskah::letters::store::Settings {
    naskah::letters::store::Settings {
        public_url: "https://naskah.example.go.id".into(),
        tte_issuer: "BSrE".into(),
        templates: None,
    }
}

/// A draft letter of `kind` at the demo's Banggai office, from `data` (the kind's sample when
/// `None`), generated and stored as naskah stores one.
pub fn banggai_draft(
    conn: &mut naskah::db::DbConn,
    kind: naskah::letters::LetterKind,
    data: Option<serde_json::Value>,
) -> naskah::ids::LetterId {
    let office = naskah::office::find_by_code(conn, "banggai")
        .expect("query")
        .expect("the demo's Banggai office");
    let letterhead = naskah::letters::letterhead_of(&office).expect("letterhead");
    naskah::letters::store::create(
        conn,
        naskah::letters::store::Owner {
            office: office.id,
            request: None,
            actor: None,
        },
        &letterhead,
        kind,
        &data.unwrap_or_else(|| naskah::letters::sample(kind)),
        &letter_settings(),
        naskah::db::now(),
    )
    .expect("letter")
}

/// `pdf` with a byte of its first stream's content changed: inside a signed range.
pub fn flip_content_byte(pdf: &[u8]) -> Vec<u8> {
    let mut flipped = pdf.to_vec();
    let at = flipped
        .windows(6)
        .position(|w| w == b"stream")
        .expect("a stream")
        + 10;
    flipped[at] ^= 0x01;
    flipped
}
