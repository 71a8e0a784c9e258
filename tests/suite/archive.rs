//! The archive and the audit log as an auditor relies on them: `naskah audit verify` names
//! every change made behind naskah's back (a byte of a stored PDF, a PDF replaced with its hash,
//! a revision removed, an audit entry edited or removed) with its position, and exits 1; on an
//! untouched database it exits 0. An export of a request passes `naskah archive check`, its
//! PDFs pass pyHanko and pdfsig, and a byte changed anywhere in it fails the check.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use naskah::db::DbConn;
use naskah::db::schema::letter_revisions;
use naskah::letters::{self, LetterKind};

use crate::common::{naskah, on_both_backends};
use crate::signing::{assert_valid, number_and_sign_as_kadis, pki};

/// Two letters of the demo's Banggai office, each with its generated revision; the kepala
/// dinas signs both.
fn two_letters(conn: &mut DbConn) -> [naskah::ids::LetterId; 2] {
    naskah::db::migrate::run_pending(conn).expect("migrate");
    naskah::demo::create(conn).expect("demo");
    [
        LetterKind::SuratRekomendasi,
        LetterKind::SuratTanggapanPersetujuan,
    ]
    .map(|kind| {
        // Filed under 500.12 (Komunikasi dan Informatika), which the demo's list holds.
        let mut data = letters::sample(kind);
        data["kka"] = "500.12".into();
        crate::common::banggai_draft(conn, kind, Some(data))
    })
}

/// What someone with the database's keys could do: take the append-only guards away.
fn unguard(conn: &mut DbConn) {
    let statements = match conn {
        DbConn::Pg(_) => {
            "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only; \
             ALTER TABLE letter_revisions DISABLE TRIGGER letter_revisions_append_only"
        }
        DbConn::Sqlite(_) => {
            "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; \
             DROP TRIGGER letter_revisions_no_update; DROP TRIGGER letter_revisions_no_delete"
        }
    };
    conn.batch_execute(statements).expect("drop the guards");
}

on_both_backends! {
    fn audit_verify_names_every_change_made_behind_naskahs_back(db) {
        let pool = db.open();
        let mut conn = pool.get().expect("connection");
        let [first, second] = two_letters(&mut conn);
        let verify = || {
            let output = naskah(db.dir.path())
                .env("NASKAH_DATABASE_URL", &db.url)
                .args(["audit", "verify"])
                .output()
                .expect("naskah audit verify");
            (output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned())
        };
        let (code, text) = verify();
        assert_eq!(code, Some(0), "{text}");
        assert!(text.contains("0 break(s)") && text.contains("2 revisions"), "{text}");

        // A letter is voided, never deleted.
        let refused = conn.batch_execute(&format!("DELETE FROM letters WHERE id = {first}"));
        assert!(
            refused.as_ref().is_err_and(|e| e.to_string().contains("voided, never deleted")),
            "{refused:?}"
        );

        unguard(&mut conn);
        // A byte of the first letter's PDF.
        let mut pdf: Vec<u8> = letter_revisions::table
            .filter(letter_revisions::letter_id.eq(first))
            .select(letter_revisions::pdf)
            .first(&mut *conn)
            .expect("pdf");
        pdf[400] ^= 0x20;
        diesel::update(letter_revisions::table.filter(letter_revisions::letter_id.eq(first)))
            .set(letter_revisions::pdf.eq(&pdf))
            .execute(&mut *conn)
            .expect("change a byte");
        // The second letter's PDF replaced, its hash column with it.
        let forged = b"%PDF-1.7 forged".to_vec();
        diesel::update(letter_revisions::table.filter(letter_revisions::letter_id.eq(second)))
            .set((
                letter_revisions::pdf.eq(&forged),
                letter_revisions::sha256.eq(naskah::digest::sha256_hex(&forged)),
                letter_revisions::size.eq(forged.len() as i64),
            ))
            .execute(&mut *conn)
            .expect("replace");
        // In Banggai's audit chain an entry edited, another removed; the other offices'
        // chains and the deployment's are left alone.
        let banggai = naskah::office::find_by_code(&mut conn, "banggai").expect("q").expect("office").id;
        conn.batch_execute(&format!(
            "UPDATE audit_log SET subject = 'office:99' WHERE chain = {} AND seq = 2",
            banggai.0
        ))
        .expect("edit");
        conn.batch_execute(&format!("DELETE FROM audit_log WHERE chain = {} AND seq = 3", banggai.0))
            .expect("delete");

        let (code, text) = verify();
        assert_eq!(code, Some(1), "{text}");
        for expected in [
            "office banggai's audit chain, entry 2: its content does not match its hash".to_owned(),
            "office banggai's audit chain, entry 3: missing".to_owned(),
            format!("letter {first} revision 1: the PDF does not match its stored SHA-256 or size"),
            format!("letter {second} revision 1: stored SHA-256"),
        ] {
            assert!(text.contains(&expected), "{expected} in:\n{text}");
        }

        // A revision removed: the log still records it.
        diesel::delete(letter_revisions::table.filter(letter_revisions::letter_id.eq(first)))
            .execute(&mut *conn)
            .expect("delete a revision");
        let (code, text) = verify();
        assert_eq!(code, Some(1));
        assert!(
            text.contains(&format!(
                "letter {first} revision 1: recorded in the audit log, gone from the archive"
            )),
            "{text}"
        );
        let output = naskah(db.dir.path())
            .env("NASKAH_DATABASE_URL", &db.url)
            .args(["audit", "verify", "--json"])
            .output()
            .expect("naskah audit verify --json");
        let found: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
        assert_eq!(
            found["breaks"],
            serde_json::json!([
                {"office": "banggai", "kind": "altered", "seq": 2},
                {"office": "banggai", "kind": "missing", "from": 3, "to": 3},
            ])
        );
        assert_eq!(found["flaws"].as_array().map(Vec::len), Some(2), "{found}");
    }
}

on_both_backends! {
    fn a_cut_tail_of_one_offices_chain_is_named_after_a_checkpoint(db) {
        let pool = db.open();
        let mut conn = pool.get().expect("connection");
        two_letters(&mut conn);
        let run = |args: &[&str]| {
            let output = naskah(db.dir.path())
                .env("NASKAH_DATABASE_URL", &db.url)
                .args(args)
                .output()
                .expect("naskah audit");
            (output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned())
        };
        // Each office writes its own chain, numbered from 1; the deployment has its own.
        let chains: Vec<(i64, i64)> = naskah::db::schema::audit_log::table
            .group_by(naskah::db::schema::audit_log::chain)
            .select((
                naskah::db::schema::audit_log::chain,
                diesel::dsl::count_star(),
            ))
            .order(naskah::db::schema::audit_log::chain)
            .load(&mut *conn)
            .expect("chains");
        let offices = chains.iter().filter(|(chain, _)| *chain != 0).count();
        assert_eq!(offices, 5, "the five offices' chains: {chains:?}");
        let (code, text) = run(&["audit", "checkpoint"]);
        assert_eq!(code, Some(0), "{text}");
        assert!(text.contains("records 5 office chain(s)"), "{text}");

        // Without a checkpoint a cut tail leaves a shorter chain that still links; with one,
        // the entries it recorded are missed, in the office's own chain only.
        let bolmut = naskah::office::find_by_code(&mut conn, "bolmut").expect("q").expect("office").id;
        let last: i64 = naskah::db::schema::audit_log::table
            .filter(naskah::db::schema::audit_log::chain.eq(bolmut.0))
            .select(diesel::dsl::max(naskah::db::schema::audit_log::seq))
            .first::<Option<i64>>(&mut *conn)
            .expect("head")
            .expect("bolmut's chain");
        unguard(&mut conn);
        conn.batch_execute(&format!(
            "DELETE FROM audit_log WHERE chain = {} AND seq >= {}",
            bolmut.0,
            last - 1
        ))
        .expect("cut the tail");
        let (code, text) = run(&["audit", "verify"]);
        assert_eq!(code, Some(1), "{text}");
        let expected = format!(
            "office bolmut's audit chain, entries {} to {last}: recorded by a checkpoint, gone (the chain's tail was cut)",
            last - 1
        );
        assert!(text.contains(&expected), "{expected} in:\n{text}");
        assert!(text.contains("1 break(s)"), "no other chain is touched:\n{text}");
    }
}

/// A finished request of the demo's Banggai office with two letters, numbered and signed by
/// the kepala dinas in the workflow's signing (certified, B-B: no time-stamp authority here).
fn finished_request(conn: &mut DbConn) -> naskah::ids::RequestId {
    let [recommendation, handover] = two_letters(conn);
    let office = naskah::office::find_by_code(conn, "banggai")
        .expect("q")
        .expect("office");
    let applicant = naskah::people::find_by_username(conn, "banggai.pemohon")
        .expect("q")
        .map(|p| p.id);
    let (_, sop) = naskah::workflow::current_sop(conn, office.id).expect("sop");
    let applicant = applicant.unwrap_or_else(|| {
        let role = sop
            .roles
            .iter()
            .find(|r| r.applicant)
            .expect("applicant role");
        naskah::people::find_by_username(conn, &format!("banggai.{}", role.id))
            .expect("q")
            .expect("applicant")
            .id
    });
    let request = naskah::workflow::file_request(
        conn,
        office.id,
        applicant,
        &naskah::workflow::NewRequest {
            organization: "Dinas Kesehatan",
            application_name: "SIMPUS",
            subdomain: Some("simpus"),
            application_type: Some("aplikasi web"),
        },
        chrono::Utc::now(),
    )
    .expect("filed");
    let settings = crate::common::letter_settings();
    for letter in [recommendation, handover] {
        conn.batch_execute(&format!(
            "UPDATE letters SET request_id = {request} WHERE id = {letter}"
        ))
        .expect("file under the request");
        number_and_sign_as_kadis(conn, letter, &settings);
    }
    conn.batch_execute(&format!(
        "UPDATE requests SET status = 'finished' WHERE id = {request}"
    ))
    .expect("finish");
    request
}

on_both_backends! {
    fn an_export_passes_its_check_and_a_changed_byte_does_not(db) {
        let pool = db.open();
        let mut conn = pool.get().expect("connection");
        let request = finished_request(&mut conn);
        // Numbers, like letters, are voided, never deleted.
        let refused = conn.batch_execute("DELETE FROM issued_numbers");
        assert!(
            refused.as_ref().is_err_and(|e| e.to_string().contains("voided, never deleted")),
            "{refused:?}"
        );
        // The office's retention for 500 holds for the letters filed under 500.12.
        let banggai = naskah::office::find_by_code(&mut conn, "banggai").expect("q").expect("office");
        naskah::classification::set_retention(
            &mut conn,
            banggai.id,
            &naskah::classification::Retention {
                code: "500".into(),
                active_years: 2,
                inactive_years: 8,
                disposition: "permanen".into(),
            },
            None,
        )
        .expect("retention");
        let zip_path = db.dir.path().join("permohonan.zip");
        let output = naskah(db.dir.path())
            .env("NASKAH_DATABASE_URL", &db.url)
            .args(["archive", "export", "--request", &request.to_string(), "--user", "banggai.sekretariat", "--out"])
            .arg(&zip_path)
            .output()
            .expect("naskah archive export");
        assert!(output.status.success(), "{output:?}");
        let said = String::from_utf8_lossy(&output.stdout);
        assert!(said.contains("2 letters, 6 revisions"), "{said}");
        let root = pki().dir.join(naskah::signing::pki::ROOT_CERT);
        let check = |path: &std::path::Path| {
            let output = naskah(db.dir.path())
                .args(["archive", "check", "--trust"])
                .arg(&root)
                .arg(path)
                .output()
                .expect("naskah archive check");
            (output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned())
        };
        let (code, text) = check(&zip_path);
        assert_eq!(code, Some(0), "{text}");
        assert!(text.contains("2 letters, 6 files, 2 signed revisions verified; 0 problem(s)"), "{text}");

        // The manifests: the same letters, numbers and hashes in XML and JSON.
        let file = std::fs::File::open(&zip_path).expect("zip");
        let mut zip = zip::ZipArchive::new(file).expect("zip");
        let mut read = |name: &str| {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut zip.by_name(name).expect(name), &mut bytes).expect("read");
            bytes
        };
        let manifest: serde_json::Value = serde_json::from_slice(&read("manifest.json")).expect("json");
        let xml = String::from_utf8(read("manifest.xml")).expect("utf-8");
        let letters = manifest["letter"].as_array().expect("letters");
        assert_eq!(letters.len(), 2);
        for letter in letters {
            let number = letter["number"].as_str().expect("numbered");
            assert!(xml.contains(&format!("<number>{number}</number>")), "{xml}");
            let signed = letter["revision"].as_array().and_then(|r| r.last()).expect("revisions");
            assert_eq!(signed["purpose"], "signature");
            assert!(xml.contains(signed["sha256"].as_str().expect("hash")));
            // The signed PDF as exported: pyHanko and pdfsig call it valid.
            let pdf = read(signed["file"].as_str().expect("file"));
            let path = db.dir.path().join(format!("{}.pdf", letter["id"]));
            std::fs::write(&path, &pdf).expect("write");
            assert_valid(&path.to_string_lossy(), 1);
            assert_eq!(letter["signature"][0]["nip"], "198107212003121004");
            assert_eq!(letter["classification"], "500.12");
            assert_eq!(
                letter["retention"],
                serde_json::json!({"code": "500", "active_years": 2, "inactive_years": 8, "disposition": "permanen"})
            );
        }
        assert!(manifest["audit_entry"].as_array().is_some_and(|a| a.len() >= 8), "{manifest}");

        // One byte changed, anywhere that matters: in a PDF, in the JSON manifest, in the XML.
        let bytes = std::fs::read(&zip_path).expect("zip");
        let spots = [
            ("a PDF", bytes.windows(5).position(|w| w == b"%PDF-").expect("a PDF") + 200),
            ("manifest.json", bytes.windows(5).rposition(|w| w == b"\"hal\"").expect("json") + 9),
            ("manifest.xml", bytes.windows(5).rposition(|w| w == b"<hal>").expect("xml") + 6),
        ];
        for (name, at) in spots {
            let mut changed = bytes.clone();
            changed[at] ^= 0x01;
            let path = db.dir.path().join("changed.zip");
            std::fs::write(&path, &changed).expect("write");
            let (code, text) = check(&path);
            assert_eq!(code, Some(1), "a byte of {name} changed:\n{text}");
        }
    }
}

on_both_backends! {
    fn a_draft_is_voided_not_removed(db) {
        let pool = db.open();
        let mut conn = pool.get().expect("connection");
        let [draft, _] = two_letters(&mut conn);
        let secretary = naskah::people::find_by_username(&mut conn, "banggai.sekretariat")
            .expect("q")
            .expect("secretary")
            .id;
        let kadis = naskah::people::find_by_username(&mut conn, "banggai.kadis")
            .expect("q")
            .expect("kadis")
            .id;
        let now = naskah::db::now();
        assert!(matches!(
            naskah::numbering::void_letter(&mut conn, draft, "salah ketik", kadis, now),
            Err(naskah::numbering::NumberingError::NotSecretariat)
        ));
        assert!(matches!(
            naskah::numbering::void_letter(&mut conn, draft, "  ", secretary, now),
            Err(naskah::numbering::NumberingError::ReasonRequired)
        ));
        naskah::numbering::void_letter(&mut conn, draft, "salah ketik", secretary, now).expect("voided");
        let (status, reason): (String, Option<String>) = naskah::db::schema::letters::table
            .find(draft)
            .select((naskah::db::schema::letters::status, naskah::db::schema::letters::void_reason))
            .first(&mut *conn)
            .expect("letter");
        assert_eq!((status.as_str(), reason.as_deref()), ("void", Some("salah ketik")));
        // Voided once; numbered never; and its revisions are all still there.
        assert!(matches!(
            naskah::numbering::void_letter(&mut conn, draft, "lagi", secretary, now),
            Err(naskah::numbering::NumberingError::LetterVoid(_))
        ));
        let office = naskah::office::find_by_code(&mut conn, "banggai").expect("q").expect("office");
        let register = naskah::numbering::register_by_code(&mut conn, office.id, "keluar").expect("register");
        assert!(matches!(
            naskah::numbering::issue(&mut conn, register.id, draft, chrono::Utc::now().date_naive(), secretary, now),
            Err(naskah::numbering::NumberingError::LetterVoid(_))
        ));
        let (flaws, checked) = naskah::archive::integrity::check(&mut conn).expect("check");
        assert!(flaws.is_empty() && checked.revisions == 2, "{flaws:?}");
        let logged: i64 = naskah::db::schema::audit_log::table
            .filter(naskah::db::schema::audit_log::action.eq("letter.voided"))
            .count()
            .get_result(&mut *conn)
            .expect("audit");
        assert_eq!(logged, 1);
    }
}

on_both_backends! {
    fn an_auditor_exports_the_office_in_the_background_and_downloads_what_checks(db) {
        let pool = db.open();
        let mut conn = pool.get().expect("connection");
        finished_request(&mut conn);
        let token = |conn: &mut DbConn, username: &str| {
            let id = naskah::people::find_by_username(conn, username).expect("q").expect("person").id;
            naskah::tokens::create(conn, id, "uji").expect("token")
        };
        let auditor = token(&mut conn, "banggai.auditor");
        let applicant = token(&mut conn, "banggai.pemohon");
        let kadis = token(&mut conn, "banggai.kadis");
        drop(conn);
        let mut command = naskah(db.dir.path());
        command
            .env("NASKAH_DATABASE_URL", &db.url)
            .args(["serve", "--bind", "127.0.0.1:0"]);
        let server = crate::common::Server::start(command);
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let start = |token: &str, body: &str| {
            let mut response = agent
                .post(&format!("http://{}/api/v1/offices/banggai/exports", server.addr))
                .header("Authorization", &format!("Bearer {token}"))
                .header("Content-Type", "application/json")
                .send(body.as_bytes())
                .expect("response");
            let text = response.body_mut().read_to_string().unwrap_or_default();
            (response.status().as_u16(), serde_json::from_str::<serde_json::Value>(&text).unwrap_or_default())
        };
        let (code, refused) = start(&applicant, "{}");
        assert_eq!(code, 403, "an applicant does not export the office: {refused}");
        let (code, refused) = start(&auditor, r#"{"from":"2026-12-01","to":"2026-11-01"}"#);
        assert_eq!(code, 422, "{refused}");
        let (code, started) = start(&auditor, "{}");
        assert_eq!(code, 202, "{started}");
        let id = started["job"].as_i64().expect("a job");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        let job = loop {
            let (status, text) = crate::common::get_with(&format!("http://{}/api/v1/jobs/{id}", server.addr), &auditor);
            assert_eq!(status, 200, "{text}");
            let job: serde_json::Value = serde_json::from_str(&text).expect("json");
            if job["status"] != "running" {
                break job;
            }
            assert!(std::time::Instant::now() < deadline, "{job}");
            std::thread::sleep(std::time::Duration::from_millis(200));
        };
        assert_eq!((job["status"].as_str(), job["done"].as_i64(), job["total"].as_i64()), (Some("finished"), Some(2), Some(2)), "{job}");

        // The ZIP, for the auditor alone, passes the offline check.
        let download = |token: &str| {
            let mut response = agent
                .get(&format!("http://{}/api/v1/jobs/{id}/download", server.addr))
                .header("Authorization", &format!("Bearer {token}"))
                .call()
                .expect("response");
            let status = response.status().as_u16();
            let bytes = response.body_mut().with_config().limit(64 << 20).read_to_vec().unwrap_or_default();
            (status, bytes)
        };
        assert_eq!(download(&kadis).0, 404, "someone else's export is not found");
        let (status, zip) = download(&auditor);
        assert_eq!(status, 200);
        let path = db.dir.path().join("ekspor.zip");
        std::fs::write(&path, &zip).expect("write");
        let output = naskah(db.dir.path())
            .args(["archive", "check", "--trust"])
            .arg(pki().dir.join(naskah::signing::pki::ROOT_CERT))
            .arg(&path)
            .output()
            .expect("naskah archive check");
        let text = String::from_utf8_lossy(&output.stdout);
        assert_eq!(output.status.code(), Some(0), "{text}");
        assert!(text.contains("2 letters,"), "{text}");
        drop(server);
        // Recorded as the auditor's export.
        let mut conn = pool.get().expect("connection");
        let exported: i64 = naskah::db::schema::audit_log::table
            .filter(naskah::db::schema::audit_log::action.eq("archive.exported"))
            .count()
            .get_result(&mut conn)
            .expect("audit");
        assert_eq!(exported, 1);
    }
}
