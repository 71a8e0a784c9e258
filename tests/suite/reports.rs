//! Reports as the kepala dinas relies on them: the annual report's and the SLA report's figures
//! equal those counted here by other queries over a year of generated requests; a report is
//! made once per period even when two naskah processes make it at the same moment; the report
//! letter is numbered, signed (valid for pyHanko and pdfsig) and in the head of office's inbox.

use diesel::prelude::*;
use naskah::db::DbConn;
use naskah::db::schema::{inbox, letter_revisions, report_runs, request_steps, requests};
use naskah::reports::{Period, annual, sla};

use crate::common::{naskah, on_both_backends};
use crate::signing::{assert_valid, pki};

const YEAR: i32 = 2025;

fn setup(conn: &mut DbConn) -> naskah::office::Office {
    naskah::db::migrate::run_pending(conn).expect("migrate");
    naskah::demo::create(conn).expect("demo");
    let office = naskah::office::find_by_code(conn, "banggai")
        .expect("q")
        .expect("office");
    let written =
        naskah::reports::synthetic::generate(conn, &office, YEAR, 300, 7).expect("generate");
    assert_eq!(written, 300);
    office
}

on_both_backends! {
    fn report_figures_equal_what_sql_counts(db) {
        let pool = db.open();
        let mut conn = pool.get().expect("connection");
        let office = setup(&mut conn);
        let offset = office.zone().offset();
        let report = annual::compute(&mut conn, &office, YEAR).expect("annual");

        // Per OPD, each figure counted by a query of its own.
        let (from, to) = Period::year(YEAR).expect("year").utc_bounds(offset);
        let in_year = || {
            requests::table
                .filter(requests::office_id.eq(office.id))
                .filter(requests::filed_at.ge(from))
                .filter(requests::filed_at.lt(to))
                .into_boxed()
        };
        let opds: Vec<String> = in_year()
            .select(requests::applicant_organization)
            .distinct()
            .order(requests::applicant_organization)
            .load(&mut *conn)
            .expect("opds");
        assert_eq!(report.per_opd.iter().map(|o| o.opd.clone()).collect::<Vec<_>>(), opds);
        for figures in &report.per_opd {
            let count = |conn: &mut DbConn, status: Option<&str>| -> i64 {
                let mut q = in_year().filter(requests::applicant_organization.eq(&figures.opd));
                if let Some(status) = status {
                    q = q.filter(requests::status.eq(status));
                }
                q.count().get_result(conn).expect("count")
            };
            assert_eq!(figures.received, count(&mut conn, None), "{}", figures.opd);
            assert_eq!(figures.approved, count(&mut conn, Some("finished")), "{}", figures.opd);
            assert_eq!(figures.rejected, count(&mut conn, Some("rejected")), "{}", figures.opd);
        }
        let total: i64 = report.per_opd.iter().map(|o| o.received).sum();
        assert_eq!(total, 300);

        // Hosted: every request finished in the year, with its recorded subdomain.
        let finished: i64 = requests::table
            .filter(requests::office_id.eq(office.id))
            .filter(requests::status.eq("finished"))
            .filter(requests::finished_at.ge(from))
            .filter(requests::finished_at.lt(to))
            .count()
            .get_result(&mut *conn)
            .expect("finished");
        assert_eq!(report.hosted.len() as i64, finished);
        assert!(report.hosted.iter().all(|h| h.subdomain.ends_with(".banggai.go.id") && h.ip.starts_with("10.")));

        // By month: received, steps done and on time.
        for month in &report.months {
            let period = Period::parse(&format!("{YEAR}-{:02}", month.month)).expect("month");
            let (from, to) = period.utc_bounds(offset);
            let received: i64 = requests::table
                .filter(requests::office_id.eq(office.id))
                .filter(requests::filed_at.ge(from))
                .filter(requests::filed_at.lt(to))
                .count()
                .get_result(&mut *conn)
                .expect("received");
            let done = || {
                request_steps::table
                    .inner_join(requests::table)
                    .filter(requests::office_id.eq(office.id))
                    .filter(request_steps::completed_at.ge(from))
                    .filter(request_steps::completed_at.lt(to))
                    .filter(request_steps::deadline_at.is_not_null())
                    .into_boxed()
            };
            let steps: i64 = done().count().get_result(&mut *conn).expect("steps");
            let on_time: i64 = done()
                .filter(request_steps::completed_at.le(request_steps::deadline_at))
                .count()
                .get_result(&mut *conn)
                .expect("on time");
            assert_eq!((month.received, month.steps, month.on_time), (received, steps, on_time), "month {}", month.month);
        }
        assert_eq!(report.months.iter().map(|m| m.received).sum::<i64>(), 300);

        // The SLA report of a week: per step, how many left it and how many late.
        let (_, sop) = naskah::workflow::current_sop(&mut conn, office.id).expect("sop");
        let calendar = naskah::calendar::for_office(&mut conn, office.id).expect("calendar");
        let week = Period::parse("2025-W20").expect("week");
        let figures = sla::compute(&mut conn, &office, &sop, &calendar, &week).expect("sla");
        let (from, to) = week.utc_bounds(offset);
        let mut seen = 0;
        for step in &figures.steps {
            let left = || {
                request_steps::table
                    .inner_join(requests::table)
                    .filter(requests::office_id.eq(office.id))
                    .filter(request_steps::step_no.eq(&step.step))
                    .filter(request_steps::completed_at.ge(from))
                    .filter(request_steps::completed_at.lt(to))
                    .into_boxed()
            };
            let count: i64 = left().count().get_result(&mut *conn).expect("count");
            let late: i64 = left()
                .filter(request_steps::completed_at.gt(request_steps::deadline_at))
                .count()
                .get_result(&mut *conn)
                .expect("late");
            assert_eq!((step.count as i64, step.late as i64), (count, late), "step {}", step.step);
            assert!(step.median <= step.p90);
            seen += step.count;
        }
        assert!(seen > 0, "the week has steps");
        assert_eq!(figures.late.len(), figures.steps.iter().map(|s| s.late).sum::<usize>());
    }

    fn a_report_is_made_once_even_by_two_processes_at_once(db) {
        let pool = db.open();
        let mut conn = pool.get().expect("connection");
        let office = setup(&mut conn);
        let spawn = || {
            naskah(db.dir.path())
                .env("NASKAH_DATABASE_URL", &db.url)
                .env("NASKAH_PKI_DIR", &pki().dir)
                .args(["report", "annual", "--office", "banggai", "--period", "2025", "--signer", "banggai.kabid_egov"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("naskah report")
        };
        let (first, second) = (spawn(), spawn());
        let outputs = [first.wait_with_output().expect("first"), second.wait_with_output().expect("second")];
        let made: Vec<_> = outputs.iter().filter(|o| o.status.success()).collect();
        assert_eq!(made.len(), 1, "{outputs:?}");
        let refused = outputs.iter().find(|o| !o.status.success()).expect("one refused");
        assert!(String::from_utf8_lossy(&refused.stderr).contains("already made"), "{refused:?}");

        let runs: Vec<(String, Option<naskah::ids::LetterId>)> = report_runs::table
            .filter(report_runs::office_id.eq(office.id))
            .select((report_runs::period, report_runs::letter_id))
            .load(&mut *conn)
            .expect("runs");
        assert_eq!(runs.len(), 1);
        let letter = runs[0].1.expect("the report's letter");
        let delivered: i64 = inbox::table
            .filter(inbox::letter_id.eq(letter))
            .count()
            .get_result(&mut *conn)
            .expect("inbox");
        assert_eq!(delivered, 1);
        let pdf: Vec<u8> = letter_revisions::table
            .filter(letter_revisions::letter_id.eq(letter))
            .order(letter_revisions::revision.desc())
            .select(letter_revisions::pdf)
            .first(&mut *conn)
            .expect("pdf");
        let path = db.dir.path().join("laporan-tahunan.pdf");
        std::fs::write(&path, &pdf).expect("write");
        assert_valid(&path.to_string_lossy(), 1);
        let text = crate::common::tool("pdftotext", &["-layout", &path.to_string_lossy(), "-"]);
        let text = String::from_utf8_lossy(&text.stdout);
        let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for shown in [
            "Laporan Tahunan Layanan Hosting dan Subdomain Tahun 2025",
            "Permohonan diterima per bulan",
            "Capaian standar waktu pelayanan per bulan",
        ] {
            assert!(words.contains(shown), "{shown} in {text}");
        }
    }
}

on_both_backends! {
    fn hosting_records_follow_the_workflow_and_show_each_caller_what_is_theirs(db) {
        let pool = db.open();
        let mut conn = pool.get().expect("connection");
        let office = setup(&mut conn);
        let records = naskah::hosting::records(&mut conn, office.id, None).expect("records");
        assert_eq!(records.len(), 300);
        for (state, status) in [("aktif", "finished"), ("ditolak", "rejected"), ("dalam_proses", "open")] {
            let counted: i64 = requests::table
                .filter(requests::office_id.eq(office.id))
                .filter(requests::status.eq(status))
                .count()
                .get_result(&mut *conn)
                .expect("count");
            assert_eq!(records.iter().filter(|r| r.state == state).count() as i64, counted, "{state}");
        }
        // The artefacts the workflow recorded: every hosted application has its address.
        assert!(records
            .iter()
            .filter(|r| r.state == "aktif")
            .all(|r| r.ip_address.as_deref().is_some_and(|ip| ip.starts_with("10."))
                && r.subdomain.as_deref().is_some_and(|s| s.ends_with(".banggai.go.id"))));

        // Over HTTP: the head of office reads all; someone of another office reads nothing.
        let person = |conn: &mut DbConn, username: &str| {
            naskah::people::find_by_username(conn, username).expect("q").expect("person").id
        };
        let kadis = person(&mut conn, "banggai.kadis");
        let stranger = person(&mut conn, "sumbar.kadis");
        let kadis_token = naskah::tokens::create(&mut conn, kadis, "test").expect("token");
        let stranger_token = naskah::tokens::create(&mut conn, stranger, "test").expect("token");
        drop(conn);
        let mut command = naskah(db.dir.path());
        command
            .env("NASKAH_DATABASE_URL", &db.url)
            .args(["serve", "--bind", "127.0.0.1:0"]);
        let server = crate::common::Server::start(command);
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let url = format!("http://{}/api/v1/offices/banggai/hosting", server.addr);
        let get = |token: Option<&str>| {
            let mut request = agent.get(&url);
            if let Some(token) = token {
                request = request.header("Authorization", &format!("Bearer {token}"));
            }
            let mut response = request.call().expect("response");
            let status = response.status().as_u16();
            (status, response.body_mut().read_to_string().unwrap_or_default())
        };
        let (status, body) = get(Some(&kadis_token));
        assert_eq!(status, 200, "{body}");
        let listed: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(listed.as_array().map(Vec::len), Some(300));
        assert!(!body.contains("password") && !body.contains("kata_sandi"));
        assert_eq!(get(Some(&stranger_token)).0, 404);
        assert_eq!(get(None).0, 401);
    }
}

on_both_backends! {
    fn each_caller_lists_the_requests_they_may_see_and_their_own_inbox(db) {
        let pool = db.open();
        let mut conn = pool.get().expect("connection");
        let office = setup(&mut conn);
        let (_, sop) = naskah::workflow::current_sop(&mut conn, office.id).expect("sop");
        let applicant_role = sop.roles.iter().find(|r| r.applicant).expect("applicant").id.clone();
        let person = |conn: &mut DbConn, username: &str| {
            naskah::people::find_by_username(conn, username).expect("q").expect("person").id
        };
        let first_applicant = person(&mut conn, &format!("banggai.{applicant_role}"));
        // A second applicant, with one request of their own.
        let second = naskah::people::insert(
            &mut conn,
            &naskah::people::NewPerson {
                username: "banggai.pemohon2",
                full_name: "Pemohon Kedua",
                nip: None,
                nik: None,
                email: None,
                rank: None,
                position: None,
                organization: Some("Dinas Sosial"),
                password_hash: None,
                active: true,
                created_at: naskah::db::now(),
            },
        )
        .expect("person");
        naskah::people::grant_role(&mut conn, second, office.id, &applicant_role).expect("role");
        naskah::workflow::file_request(
            &mut conn,
            office.id,
            second,
            &naskah::workflow::NewRequest {
                organization: "Dinas Sosial",
                application_name: "SIKS",
                subdomain: Some("siks"),
                application_type: Some("aplikasi web"),
            },
            chrono::Utc::now(),
        )
        .expect("filed");
        let kadis = person(&mut conn, "banggai.kadis");
        let stranger = person(&mut conn, "sumbar.kadis");
        // A report delivered to the head of office.
        let signer = person(&mut conn, "banggai.kabid_egov");
        let made = naskah::reports::make::make(
            &mut conn,
            &naskah::tte::Settings::local(pki().dir.clone(), crate::common::letter_settings()),
            &naskah::reports::make::Order {
                office: &office,
                kind: naskah::reports::make::ReportKind::Annual,
                period: &Period::year(YEAR).expect("year"),
                made_by: "test",
                instance: "test",
            },
            &naskah::reports::make::Signer {
                person: signer,
                passphrase: &crate::signing::passphrase("banggai.kabid_egov"),
            },
        )
        .expect("report");
        assert_eq!(made.head, kadis);
        let token = |conn: &mut DbConn, who| naskah::tokens::create(conn, who, "test").expect("token");
        let tokens = [
            ("kadis", token(&mut conn, kadis)),
            ("first", token(&mut conn, first_applicant)),
            ("second", token(&mut conn, second)),
            ("stranger", token(&mut conn, stranger)),
        ];
        drop(conn);
        let mut command = naskah(db.dir.path());
        command.env("NASKAH_DATABASE_URL", &db.url).args(["serve", "--bind", "127.0.0.1:0"]);
        let server = crate::common::Server::start(command);
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let get = |path: &str, token: Option<&str>| -> (u16, serde_json::Value) {
            let mut request = agent.get(&format!("http://{}{path}", server.addr));
            if let Some(token) = token {
                request = request.header("Authorization", &format!("Bearer {token}"));
            }
            let mut response = request.call().expect("response");
            let status = response.status().as_u16();
            let text = response.body_mut().read_to_string().unwrap_or_default();
            (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
        };
        let count = |token: &str| get("/api/v1/requests?limit=500", Some(token)).1.as_array().map_or(0, Vec::len);
        assert_eq!(count(&tokens[0].1), 301, "the head of office sees the office's");
        assert_eq!(count(&tokens[1].1), 300, "an applicant sees their own");
        assert_eq!(count(&tokens[2].1), 1, "an applicant sees their own");
        assert_eq!(count(&tokens[3].1), 0, "another office's head sees none");
        assert_eq!(get("/api/v1/requests", None).0, 401);
        // Pages, newest first.
        let (_, first_page) = get("/api/v1/requests?limit=100", Some(&tokens[0].1));
        let ids: Vec<i64> = first_page.as_array().expect("list").iter().map(|r| r["id"].as_i64().expect("id")).collect();
        assert_eq!(ids.len(), 100);
        assert!(ids.windows(2).all(|w| w[0] > w[1]));
        let (_, next) = get(&format!("/api/v1/requests?limit=100&before={}", ids[99]), Some(&tokens[0].1));
        assert!(next.as_array().expect("list").iter().all(|r| r["id"].as_i64() < Some(ids[99])));
        assert_eq!(get("/api/v1/inbox", None).0, 401);
        let (_, inbox) = get("/api/v1/inbox", Some(&tokens[0].1));
        let items = inbox.as_array().expect("inbox");
        assert_eq!(items.len(), 1, "{inbox}");
        assert_eq!(items[0]["kind"], "report.annual");
        assert_eq!(items[0]["letter"], made.letter.0);
        assert!(items[0]["subject"].as_str().is_some_and(|s| s.contains(&made.number)));
        assert_eq!(get("/api/v1/inbox", Some(&tokens[1].1)).1, serde_json::json!([]));
    }
}
