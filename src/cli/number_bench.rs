//! `naskah number bench`: issues numbers from concurrent clients through the HTTP API of a
//! server it starts, then checks the register: every number once, none missing.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::prelude::*;

use crate::db::DatabaseUrl;
use crate::db::schema::{issued_numbers, letters};
use crate::db::{Db, DbConn, migrate};
use crate::ids::{LetterId, OfficeId, PersonId, RegisterId};
use crate::letters::store::Settings;
use crate::numbering::{self, NewRegister, RegisterKind};
use crate::office::{self, NewOffice};
use crate::people::{self, NewPerson};

/// What a run found.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub issued: usize,
    pub duplicates: usize,
    pub gaps: usize,
    pub failed_requests: usize,
    pub elapsed: Duration,
}

impl Outcome {
    pub fn line(&self) -> String {
        format!(
            "issued={} duplicates={} gaps={} rate={:.0}/s",
            self.issued,
            self.duplicates,
            self.gaps,
            self.issued as f64 / self.elapsed.as_secs_f64().max(1e-9)
        )
    }
}

/// An office with a secretary, a register and `count` draft letters to number, made fresh for a
/// run so that runs never meet.
pub struct Fixture {
    pub office_code: String,
    pub register: RegisterId,
    pub letters: Vec<LetterId>,
    pub token: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BenchError(String);

fn fail(e: impl std::fmt::Display) -> BenchError {
    BenchError(e.to_string())
}

/// Creates the bench office, its secretary, a register `{seq}/BENCH/{year}` and `count` draft
/// letters (records without PDFs, as incoming letters are).
pub fn fixture(conn: &mut DbConn, count: usize) -> Result<Fixture, BenchError> {
    let suffix = format!(
        "{}{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros() % 1_000_000
    );
    let code = format!("bench{suffix}");
    let now = crate::db::now();
    let office = office::insert(
        conn,
        &NewOffice {
            code: &code,
            government: "PEMERINTAH KABUPATEN UJI",
            name: "DINAS KOMUNIKASI DAN INFORMATIKA",
            unit: None,
            address: "Jl. Uji No. 1",
            city: "Kota Uji",
            postal_code: None,
            phone: None,
            website: None,
            email: None,
            emblem_path: None,
            time_zone: "WIB",
            created_at: now,
        },
    )
    .map_err(fail)?;
    let username = format!("{code}.sekretariat");
    let secretary: PersonId = people::insert(
        conn,
        &NewPerson {
            username: &username,
            full_name: "Sekretariat Uji",
            nip: None,
            nik: None,
            email: None,
            rank: None,
            position: Some("Sekretariat"),
            organization: None,
            password_hash: None,
            active: true,
            created_at: now,
        },
    )
    .map_err(fail)?;
    people::grant_role(conn, secretary, office, crate::people::roles::SECRETARIAT).map_err(fail)?;
    let register = numbering::create_register(
        conn,
        &NewRegister {
            office,
            code: "bench",
            name: "Register uji",
            kind: RegisterKind::Outgoing,
            pattern: "{seq}/BENCH/{year}",
            values: Default::default(),
            letter_kind: None,
        },
        None,
    )
    .map_err(fail)?;
    let letters = draft_letters(conn, office, count)?;
    let token = crate::tokens::create(conn, secretary, "number bench").map_err(fail)?;
    Ok(Fixture {
        office_code: code,
        register,
        letters,
        token,
    })
}

fn draft_letters(
    conn: &mut DbConn,
    office: OfficeId,
    count: usize,
) -> Result<Vec<LetterId>, BenchError> {
    let now = crate::db::now();
    let mut ids = Vec::with_capacity(count);
    crate::db::write_transaction(conn, |conn| {
        for i in 0..count {
            let id: LetterId = diesel::insert_into(letters::table)
                .values((
                    letters::office_id.eq(office),
                    letters::kind.eq("surat_tanggapan_persetujuan"),
                    letters::public_id.eq(format!("bench-{office}-{i}")),
                    letters::status.eq("draft"),
                    letters::sifat.eq("Biasa"),
                    letters::hal.eq(format!("Surat uji {i}")),
                    letters::sender.eq("Dinas Uji"),
                    letters::addressee.eq("Penerima Uji"),
                    letters::fields.eq("{}"),
                    letters::created_at.eq(now),
                ))
                .returning(letters::id)
                .get_result(conn)?;
            ids.push(id);
        }
        Ok::<_, diesel::result::Error>(())
    })
    .map_err(fail)?;
    Ok(ids)
}

/// Numbers every letter of `fixtures` from `clients` threads, the offices' letters taken in
/// turn, spreading the requests over `servers` in turn. Requests that fail are counted, not
/// retried.
pub fn drive(servers: &[String], fixtures: &[Fixture], clients: usize) -> (usize, Duration) {
    let longest = fixtures.iter().map(|f| f.letters.len()).max().unwrap_or(0);
    let jobs: Vec<(&Fixture, LetterId)> = (0..longest)
        .flat_map(|i| {
            fixtures
                .iter()
                .filter_map(move |f| f.letters.get(i).map(|letter| (f, *letter)))
        })
        .collect();
    let next = AtomicUsize::new(0);
    let failed = AtomicUsize::new(0);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .max_idle_connections_per_host(clients)
        .build()
        .into();
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..clients {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&(fixture, letter)) = jobs.get(i) else {
                        break;
                    };
                    let server = &servers[i % servers.len()];
                    let url = format!("{server}/api/v1/letters/{letter}/number");
                    let ok = agent
                        .post(&url)
                        .header("Authorization", &format!("Bearer {}", fixture.token))
                        .header("Content-Type", "application/json")
                        .send(r#"{"register":"bench"}"#)
                        .is_ok_and(|r| r.status().as_u16() == 201);
                    if !ok {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    (failed.load(Ordering::Relaxed), started.elapsed())
}

/// Reads the register back: how many numbers, how many sequence numbers twice, how many missing
/// from 1 to the highest.
pub fn check(conn: &mut DbConn, register: RegisterId) -> Result<(usize, usize, usize), BenchError> {
    let seqs: Vec<i32> = issued_numbers::table
        .filter(issued_numbers::register_id.eq(register))
        .filter(issued_numbers::sub.eq(0))
        .order(issued_numbers::seq)
        .select(issued_numbers::seq)
        .load(conn)
        .map_err(fail)?;
    let mut unique = seqs.clone();
    unique.dedup();
    let duplicates = seqs.len() - unique.len();
    let highest = unique.last().copied().unwrap_or(0).max(0) as usize;
    let gaps = highest - unique.iter().filter(|s| **s >= 1).count();
    Ok((seqs.len(), duplicates, gaps))
}

/// The whole bench: a server on loopback (in this process), `clients` clients, `count` numbers
/// over `offices` offices (each with its register and its audit chain; the count shared out).
pub fn run(
    database: &DatabaseUrl,
    clients: usize,
    count: usize,
    offices: usize,
    pool: u32,
    settings: Settings,
) -> Result<Outcome, BenchError> {
    let db = Db::open(database, pool).map_err(fail)?;
    let mut conn = db.get().map_err(fail)?;
    migrate::run_pending(&mut conn).map_err(fail)?;
    let offices = offices.clamp(1, count.max(1));
    let fixtures = (0..offices)
        .map(|i| {
            fixture(
                &mut conn,
                count / offices + usize::from(i < count % offices),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    drop(conn);

    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(fail)?;
    let (sender, receiver) = std::sync::mpsc::channel();
    let server_db = db.clone();
    let handover = std::sync::Arc::new(crate::handover::Key::ephemeral().map_err(fail)?);
    let verifier = std::sync::Arc::new(
        crate::verify::sandbox::Sandbox::own(&Default::default(), Default::default())
            .map_err(fail)?,
    );
    let server = std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let state = crate::web::AppState {
                db: server_db,
                tte: crate::tte::Settings::local(PathBuf::new(), settings.clone()),
                verifier,
                limits: std::sync::Arc::new(crate::web::limits::Limits::new(Vec::new())),
                letters: settings,
                demo: false,
                handover,
                data_dir: std::env::temp_dir(),
                schedule: crate::schedule::Schedule::default(),
            };
            match crate::web::start(listener, state) {
                Ok((server, addr)) => {
                    let _ = sender.send(Ok((server.handle(), addr)));
                    let _ = server.await;
                }
                Err(e) => {
                    let _ = sender.send(Err(e.to_string()));
                }
            }
        });
    });
    let (handle, addr) = receiver.recv().map_err(fail)?.map_err(BenchError)?;
    let (failed_requests, elapsed) = drive(&[format!("http://{addr}")], &fixtures, clients);
    actix_web::rt::System::new().block_on(handle.stop(true));
    let _ = server.join();

    let mut conn = db.get().map_err(fail)?;
    let (mut issued, mut duplicates, mut gaps) = (0, 0, 0);
    for fixture in &fixtures {
        let (i, d, g) = check(&mut conn, fixture.register)?;
        (issued, duplicates, gaps) = (issued + i, duplicates + d, gaps + g);
    }
    Ok(Outcome {
        issued,
        duplicates,
        gaps,
        failed_requests,
        elapsed,
    })
}
