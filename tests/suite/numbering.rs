//! Letter numbers as the secretariat and an auditor rely on them: each seed's format written
//! exactly; 5,000 numbers from 32 concurrent clients through the HTTP API, once each and without
//! a gap, on both backends and from two processes on one PostgreSQL database; none lost when the
//! server is killed mid-way; the counter restarting at 1 in the new year; refusals that change
//! nothing.

use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use diesel::prelude::*;
use naskah::cli::number_bench as bench;
use naskah::db::DbConn;
use naskah::db::schema::{issued_numbers, letters, register_counters};
use naskah::ids::{LetterId, PersonId};
use naskah::numbering::{self, NewRegister, NumberingError, RegisterKind};

use crate::common::{Backend, Server, TestDb, get, naskah, on_both_backends};

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date")
}

#[test]
fn preview_writes_each_seed_number_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: [(&[&str], &str); 5] = [
        (
            &[
                "--pattern",
                "{kka}/{seq}/{unit}",
                "--seq",
                "468",
                "--date",
                "2025-09-22",
                "--set",
                "kka=500.12.6",
                "--set",
                "unit=Bid. Layanan E-Gov",
            ],
            "500.12.6/468/Bid. Layanan E-Gov",
        ),
        (
            &[
                "--pattern",
                "{kka}/{seq}/{unit}-{year}",
                "--seq",
                "129",
                "--date",
                "2021-12-30",
                "--set",
                "kka=555",
                "--set",
                "unit=Dikominfotik",
            ],
            "555/129/Dikominfotik-2021",
        ),
        (
            &[
                "--pattern",
                "{kka}/{seq}{sub}/{unit}/{month:roman}/{year}",
                "--seq",
                "40",
                "--sub",
                "8",
                "--date",
                "2025-02-03",
                "--set",
                "kka=500.4",
                "--set",
                "unit=DKIP",
            ],
            "500.4/40.8/DKIP/II/2025",
        ),
        (
            &[
                "--pattern",
                "{kka}/{seq}/{series}/{unit}/{year}",
                "--seq",
                "28",
                "--date",
                "2022-01-03",
                "--set",
                "kka=067",
                "--set",
                "series=SOP",
                "--set",
                "unit=DKISP",
            ],
            "067/28/SOP/DKISP/2022",
        ),
        (
            &[
                "--pattern",
                "{sifat_code}/{kka}/{seq}/{unit}/{month:roman}/{year}",
                "--seq",
                "573",
                "--date",
                "2026-09-14",
                "--set",
                "sifat_code=B",
                "--set",
                "kka=500.12.16.3",
                "--set",
                "unit=BPBD-KL",
            ],
            "B/500.12.16.3/573/BPBD-KL/IX/2026",
        ),
    ];
    for (args, expected) in cases {
        let output = naskah(dir.path())
            .args(["number", "preview"])
            .args(args)
            .output()
            .expect("run");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), expected);
    }
    let output = naskah(dir.path())
        .args([
            "number",
            "preview",
            "--pattern",
            "{kka}/{nomor}",
            "--seq",
            "1",
            "--date",
            "2026-01-01",
        ])
        .output()
        .expect("run");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown token '{nomor}'"));
}

/// A fresh database with the demo data, and the Banggai secretary and register.
struct Setup {
    pool: naskah::db::Db,
    secretary: PersonId,
    register: naskah::ids::RegisterId,
    office: naskah::ids::OfficeId,
}

fn setup(db: &TestDb) -> Setup {
    let pool = db.open();
    let mut conn = pool.get().expect("connection");
    naskah::db::migrate::run_pending(&mut conn).expect("migrate");
    naskah::demo::create(&mut conn).expect("demo");
    let office = naskah::office::find_by_code(&mut conn, "malut")
        .expect("query")
        .expect("office");
    let secretary = naskah::people::find_by_username(&mut conn, "malut.sekretariat")
        .expect("query")
        .expect("secretary")
        .id;
    let register = numbering::register_by_code(&mut conn, office.id, "keluar")
        .expect("register")
        .id;
    drop(conn);
    Setup {
        pool,
        secretary,
        register,
        office: office.id,
    }
}

fn draft(conn: &mut DbConn, office: naskah::ids::OfficeId, n: usize) -> LetterId {
    diesel::insert_into(letters::table)
        .values((
            letters::office_id.eq(office),
            letters::kind.eq("surat_tanggapan_persetujuan"),
            letters::public_id.eq(format!("test-{n}-{}", std::process::id())),
            letters::status.eq("draft"),
            letters::sifat.eq("Biasa"),
            letters::hal.eq("Uji"),
            letters::sender.eq("Dinas"),
            letters::addressee.eq("OPD"),
            letters::fields.eq("{}"),
            letters::created_at.eq(naskah::db::now()),
        ))
        .returning(letters::id)
        .get_result(conn)
        .expect("a draft letter")
}

/// Every number (year, seq, sub, status) and every counter (year, last seq).
type RegisterState = (Vec<(i32, i32, i32, String)>, Vec<(i32, i32)>);

fn state(conn: &mut DbConn) -> RegisterState {
    let numbers = issued_numbers::table
        .order(issued_numbers::id)
        .select((
            issued_numbers::year,
            issued_numbers::seq,
            issued_numbers::sub,
            issued_numbers::status,
        ))
        .load(conn)
        .expect("numbers");
    let counters = register_counters::table
        .order(register_counters::year)
        .select((register_counters::year, register_counters::last_seq))
        .load(conn)
        .expect("counters");
    (numbers, counters)
}

fn run_bench(db: &TestDb) -> String {
    let output = naskah(db.dir.path())
        .args([
            "number",
            "bench",
            "--clients",
            "32",
            "--count",
            "5000",
            "--database",
            &db.url,
        ])
        .output()
        .expect("run");
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

on_both_backends! {
    fn five_thousand_numbers_from_32_clients_once_each(db) {
        let line = run_bench(db);
        assert!(line.starts_with("issued=5000 duplicates=0 gaps=0 rate="), "{line}");
        // Read back independently: the numbers are 1..5000, each held by a numbered letter.
        let pool = db.open();
        let mut conn = pool.get().expect("connection");
        let seqs: Vec<i32> = issued_numbers::table.order(issued_numbers::seq).select(issued_numbers::seq).load(&mut conn).expect("seqs");
        assert_eq!(seqs, (1..=5000).collect::<Vec<i32>>());
        let numbered: i64 = letters::table.filter(letters::status.eq("numbered")).count().get_result(&mut conn).expect("count");
        assert_eq!(numbered, 5000);
    }

    fn the_year_rolls_over_at_local_midnight(db) {
        let s = setup(db);
        let mut conn = s.pool.get().expect("connection");
        let zone = naskah::office::TimeZone::Wit;
        // Maluku Utara is UTC+9: 14:59:59 UTC on 31 December is 23:59:59 there.
        let last_second = Utc.with_ymd_and_hms(2026, 12, 31, 14, 59, 59).single().expect("time");
        let numbers: Vec<String> = [last_second - chrono::Duration::hours(3), last_second, last_second + chrono::Duration::seconds(1)]
            .iter()
            .enumerate()
            .map(|(i, at)| {
                let letter = draft(&mut conn, s.office, i);
                numbering::issue(&mut conn, s.register, letter, numbering::local_date(*at, zone), s.secretary, at.naive_utc())
                    .expect("issued")
                    .number
            })
            .collect();
        assert_eq!(numbers, ["500.4/1/DKIP/XII/2026", "500.4/2/DKIP/XII/2026", "500.4/1/DKIP/I/2027"]);
    }

    fn sisipan_reservations_voids_and_refusals(db) {
        let s = setup(db);
        let mut conn = s.pool.get().expect("connection");
        let at = naskah::db::now();
        let mut letter_no = 0;
        let mut next_letter = |conn: &mut DbConn| {
            letter_no += 1;
            draft(conn, s.office, letter_no)
        };
        // 27 numbers in February, the 28th on 10 February, more on 12 February.
        for day in ["2025-02-03"; 27] {
            let letter = next_letter(&mut conn);
            numbering::issue(&mut conn, s.register, letter, date(day), s.secretary, at).expect("issued");
        }
        let letter = next_letter(&mut conn);
        assert_eq!(numbering::issue(&mut conn, s.register, letter, date("2025-02-10"), s.secretary, at).expect("28").number, "500.4/28/DKIP/II/2025");
        let letter = next_letter(&mut conn);
        assert_eq!(numbering::issue(&mut conn, s.register, letter, date("2025-02-12"), s.secretary, at).expect("29").number, "500.4/29/DKIP/II/2025");
        // Back-dated to 11 February: sub-numbers of 28, the counter unmoved.
        for expected in ["500.4/28.1/DKIP/II/2025", "500.4/28.2/DKIP/II/2025"] {
            let letter = next_letter(&mut conn);
            let inserted = numbering::insert(&mut conn, s.register, letter, date("2025-02-11"), "surat tertinggal", s.secretary, at).expect("sisipan");
            assert_eq!(inserted.number, expected);
        }
        // A block reserved for letters made outside naskah: 30..32; one used, one voided.
        let reserved = numbering::reserve(&mut conn, s.register, 3, date("2025-02-12"), "surat manual bidang", s.secretary, at).expect("reserved");
        let reserved_numbers: Vec<&str> = reserved.iter().map(|n| n.number.as_str()).collect();
        assert_eq!(reserved_numbers, ["500.4/30/DKIP/II/2025", "500.4/31/DKIP/II/2025", "500.4/32/DKIP/II/2025"]);
        numbering::use_reserved(&mut conn, reserved[0].id, "undangan rapat koordinasi", s.secretary).expect("used");
        numbering::void(&mut conn, reserved[1].id, "tidak jadi dikirim", s.secretary, at).expect("voided");

        let before = state(&mut conn);
        let letter = next_letter(&mut conn);
        let outsider = naskah::people::find_by_username(&mut conn, "malut.kabid_tik").expect("query").expect("kabid").id;
        let refusals: Vec<(&str, Result<numbering::IssuedNumber, NumberingError>, &str)> = vec![
            ("sisipan after the latest number", numbering::insert(&mut conn, s.register, letter, date("2025-02-20"), "terlambat", s.secretary, at), "tidak boleh sesudah nomor terakhir"),
            ("sisipan without a reason", numbering::insert(&mut conn, s.register, letter, date("2025-02-11"), " ", s.secretary, at), "alasan wajib diisi"),
            ("a back-dated main number", numbering::issue(&mut conn, s.register, letter, date("2025-02-04"), s.secretary, at), "gunakan nomor sisipan"),
            ("a second void", numbering::void(&mut conn, reserved[1].id, "lagi", s.secretary, at), "sudah dibatalkan sebelumnya"),
            ("issuing without the secretariat role", numbering::issue(&mut conn, s.register, letter, date("2025-02-12"), outsider, at), "hanya sekretariat"),
            ("using a number already used", numbering::use_reserved(&mut conn, reserved[0].id, "lain", s.secretary), "bukan nomor cadangan"),
        ];
        for (what, result, message) in refusals {
            let error = result.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains(message), "{what}: {error:?}");
            assert_eq!(state(&mut conn), before, "{what} changed the register");
        }
        let bad = NewRegister {
            office: s.office,
            code: "salah",
            name: "Pola salah",
            kind: RegisterKind::Outgoing,
            pattern: "{kka}/{nomor}/{year}",
            values: Default::default(),
            letter_kind: None,
        };
        let error = numbering::create_register(&mut conn, &bad, None).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("unknown token '{nomor}'"), "{error}");
        assert!(numbering::register_by_code(&mut conn, s.office, "salah").is_err());

        // The log, and its CSV, keep every number with its status and reasons.
        let log = numbering::log(&mut conn, s.register, date("2025-01-01"), date("2025-12-31")).expect("log");
        assert_eq!(log.len(), 34);
        let csv = numbering::csv(&log);
        assert!(csv.starts_with("nomor,tahun,urut,sisipan,tanggal,status,surat,keterangan,alasan_batal,diberikan_pada\r\n"));
        assert!(csv.contains("500.4/28.1/DKIP/II/2025,2025,28,1,2025-02-11,issued,"));
        assert!(csv.contains("500.4/31/DKIP/II/2025,2025,31,0,2025-02-12,void,,surat manual bidang,tidak jadi dikirim,"));
        assert!(csv.contains("surat manual bidang | dipakai untuk: undangan rapat koordinasi"));

        // Printed as a buku agenda that qpdf accepts and poppler reads.
        let pdf = numbering::agenda::pdf(&mut conn, s.register, date("2025-02-01"), date("2025-02-28"), s.secretary).expect("agenda");
        let file = db.dir.path().join("agenda.pdf");
        std::fs::write(&file, &pdf).expect("write");
        let path = file.to_str().expect("utf-8");
        assert!(std::process::Command::new("qpdf").args(["--check", path]).status().expect("qpdf").success());
        let text = std::process::Command::new("pdftotext").args([path, "-"]).output().expect("pdftotext").stdout;
        let text = String::from_utf8_lossy(&text).split_whitespace().collect::<Vec<_>>().join(" ");
        for expected in ["SURAT KELUAR", "500.4/28.1/DKIP/II/2025", "dibatalkan", "batal: tidak jadi dikirim", "Jumlah nomor dalam periode ini: 34"] {
            assert!(text.contains(expected), "{expected} in the buku agenda: {text}");
        }
        assert_eq!(naskah::audit::verify(&mut conn).expect("verify"), vec![]);
    }

    fn a_server_killed_mid_way_loses_no_number(db) {
        let mut conn = db.open().get().expect("connection");
        naskah::db::migrate::run_pending(&mut conn).expect("migrate");
        let fixture = bench::fixture(&mut conn, 3_000).expect("fixture");
        drop(conn);
        let serve = || {
            let mut command = naskah(db.dir.path());
            command.env("NASKAH_DATABASE_URL", &db.url).env("NASKAH_LOG", "warn").args(["serve", "--bind", "127.0.0.1:0"]);
            Server::start(command)
        };
        let server = serve();
        let url = format!("http://{}", server.addr);
        let pid = server.child.id();
        // Killed once numbers are flowing (at least 100 in the log), however slow the machine.
        let watcher = db.open();
        let register = fixture.register;
        let killer = std::thread::spawn(move || {
            let started = std::time::Instant::now();
            let mut conn = watcher.get().expect("connection");
            while started.elapsed() < Duration::from_secs(60) {
                let (issued, _, _) = bench::check(&mut conn, register).expect("check");
                if issued >= 100 {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = std::process::Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        });
        let (failed, _) = bench::drive(std::slice::from_ref(&url), std::slice::from_ref(&fixture), 8);
        killer.join().expect("killer");
        drop(server);
        assert!(failed > 0, "the server was killed while numbers were being issued");

        let mut conn = db.open().get().expect("connection");
        let (issued, duplicates, gaps) = bench::check(&mut conn, fixture.register).expect("check");
        assert!(issued > 0 && issued < 3_000, "{issued} issued before the kill");
        assert_eq!((duplicates, gaps), (0, 0));
        // Every number in the log belongs to a letter that committed as numbered, and the reverse.
        let orphans: i64 = issued_numbers::table
            .left_join(letters::table)
            .filter(issued_numbers::register_id.eq(fixture.register))
            .filter(letters::status.ne("numbered").or(letters::id.is_null()))
            .count()
            .get_result(&mut conn)
            .expect("orphans");
        assert_eq!(orphans, 0);
        let numbered: i64 = letters::table
            .filter(letters::id.eq_any(&fixture.letters))
            .filter(letters::status.eq("numbered"))
            .count()
            .get_result(&mut conn)
            .expect("numbered");
        assert_eq!(numbered as usize, issued);
        drop(conn);

        // After a restart, numbering goes on from the next number.
        let server = serve();
        let remaining = bench::Fixture {
            letters: fixture.letters.iter().copied().filter(|l| {
                let mut conn = db.open().get().expect("connection");
                letters::table.find(*l).select(letters::status).first::<String>(&mut conn).map(|s| s == "draft").unwrap_or(false)
            }).take(5).collect(),
            office_code: fixture.office_code.clone(),
            register: fixture.register,
            token: fixture.token.clone(),
        };
        let (failed, _) = bench::drive(&[format!("http://{}", server.addr)], std::slice::from_ref(&remaining), 2);
        assert_eq!(failed, 0);
        let mut conn = db.open().get().expect("connection");
        let (after, duplicates, gaps) = bench::check(&mut conn, fixture.register).expect("check");
        assert_eq!((after, duplicates, gaps), (issued + 5, 0, 0));
    }

    fn the_api_checks_who_calls(db) {
        let s = setup(db);
        let mut conn = s.pool.get().expect("connection");
        let letter = draft(&mut conn, s.office, 1);
        let secretary_token = naskah::tokens::create(&mut conn, s.secretary, "uji").expect("token");
        let kabid = naskah::people::find_by_username(&mut conn, "malut.kabid_tik").expect("query").expect("kabid").id;
        let kabid_token = naskah::tokens::create(&mut conn, kabid, "uji").expect("token");
        let stranger = naskah::people::find_by_username(&mut conn, "banggai.sekretariat").expect("query").expect("other").id;
        let stranger_token = naskah::tokens::create(&mut conn, stranger, "uji").expect("token");
        drop(conn);
        let mut command = naskah(db.dir.path());
        command.env("NASKAH_DATABASE_URL", &db.url).args(["serve", "--bind", "127.0.0.1:0"]);
        let server = Server::start(command);
        let post = |path: &str, token: Option<&str>, body: &str| -> (u16, serde_json::Value) {
            let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
            let mut request = agent.post(&format!("http://{}{path}", server.addr)).header("Content-Type", "application/json");
            if let Some(token) = token {
                request = request.header("Authorization", &format!("Bearer {token}"));
            }
            let mut response = request.send(body).expect("response");
            let status = response.status().as_u16();
            let text = response.body_mut().read_to_string().unwrap_or_default();
            (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
        };
        let path = format!("/api/v1/letters/{letter}/number");
        let body = r#"{"register":"keluar","date":"2026-03-02"}"#;
        let (status, error) = post(&path, None, body);
        assert_eq!((status, error["error"]["code"].as_str()), (401, Some("unauthenticated")));
        let (status, _) = post(&path, Some("nsk_not-a-token"), body);
        assert_eq!(status, 401);
        let (status, error) = post(&path, Some(&kabid_token), body);
        assert_eq!((status, error["error"]["code"].as_str()), (403, Some("forbidden")), "{error}");
        let (status, _) = post(&path, Some(&stranger_token), body);
        assert_eq!(status, 404, "another office's letter is not found");
        let (status, error) = post(&path, Some(&secretary_token), "{\"register\": 5}");
        assert_eq!((status, error["error"]["code"].as_str()), (422, Some("invalid")), "{error}");
        let (status, issued) = post(&path, Some(&secretary_token), body);
        assert_eq!(status, 201, "{issued}");
        assert_eq!(issued["number"], "500.4/1/DKIP/III/2026");
        let (status, error) = post(&path, Some(&secretary_token), body);
        assert_eq!((status, error["error"]["code"].as_str()), (409, Some("conflict")));
        let (status, body) = get(&format!("http://{}/api/v1/offices/malut/registers/keluar/numbers?format=csv", server.addr));
        assert_eq!(status, 401, "{body}");
        // The log as CSV and as a printed buku agenda, for someone of the office.
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let fetch = |query: &str, token: &str| {
            let mut response = agent
                .get(&format!("http://{}/api/v1/offices/malut/registers/keluar/numbers?{query}", server.addr))
                .header("Authorization", &format!("Bearer {token}"))
                .call()
                .expect("response");
            let kind = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
            (response.status().as_u16(), kind, response.body_mut().read_to_vec().unwrap_or_default())
        };
        let (status, kind, csv) = fetch("format=csv", &kabid_token);
        assert_eq!((status, kind.as_str()), (200, "text/csv; charset=utf-8"));
        assert!(String::from_utf8_lossy(&csv).contains("500.4/1/DKIP/III/2026,2026,1,0,2026-03-02,issued,"));
        let (status, kind, pdf) = fetch("format=pdf&from=2026-03-01&to=2026-03-31", &secretary_token);
        assert_eq!((status, kind.as_str()), (200, "application/pdf"), "{}", String::from_utf8_lossy(&pdf));
        assert!(pdf.starts_with(b"%PDF-"));
        let (status, _, _) = fetch("format=pdf", &secretary_token);
        assert_eq!(status, 422, "a buku agenda needs its period");
        let (status, _, _) = fetch("format=csv", &stranger_token);
        assert_eq!(status, 404, "another office's register is not found");
    }
}

#[test]
fn two_processes_on_one_postgresql_database_issue_once_each() {
    let db = TestDb::new(Backend::Postgres);
    let mut conn = db.open().get().expect("connection");
    naskah::db::migrate::run_pending(&mut conn).expect("migrate");
    let fixture = bench::fixture(&mut conn, 5_000).expect("fixture");
    drop(conn);
    let serve = || {
        let mut command = naskah(db.dir.path());
        command
            .env("NASKAH_DATABASE_URL", &db.url)
            .env("NASKAH_LOG", "warn")
            .args(["serve", "--bind", "127.0.0.1:0"]);
        Server::start(command)
    };
    let (a, b) = (serve(), serve());
    let servers = [format!("http://{}", a.addr), format!("http://{}", b.addr)];
    let (failed, _) = bench::drive(&servers, std::slice::from_ref(&fixture), 32);
    assert_eq!(failed, 0);
    let mut conn = db.open().get().expect("connection");
    assert_eq!(
        bench::check(&mut conn, fixture.register).expect("check"),
        (5_000, 0, 0)
    );
}
