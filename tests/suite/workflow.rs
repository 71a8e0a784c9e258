//! The five seed SOPs run end to end: a request of each is driven along its happy path and along
//! every decision branch, checking the steps visited, the person who took each, and what each
//! step required before it could be completed. Refusals (wrong role, out of order, missing
//! documents) change nothing. SLA clocks run in the office's working time.

use chrono::{DateTime, TimeZone, Utc};
use diesel::prelude::*;
use naskah::db::DbConn;
use naskah::db::schema::{audit_log, letters, people, person_roles, request_steps};
use naskah::ids::{PersonId, RequestId};
use naskah::letters::LetterState;
use naskah::sop::{Item, Route, Sop};
use naskah::workflow::{self, ItemRef, NewRequest, WorkflowError};

use crate::common::{TestDb, on_both_backends};

/// A moment on 23 November 2026 (a Monday), 01:00 UTC plus `minutes`: office hours in all three
/// Indonesian time zones.
fn clock(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0)
        .single()
        .expect("a valid time")
        + chrono::Duration::minutes(minutes)
}

struct Office {
    code: &'static str,
    id: naskah::ids::OfficeId,
    sop: Sop,
    applicant: PersonId,
}

fn setup(db: &TestDb, code: &'static str) -> (naskah::db::Db, Office) {
    let pool = db.open();
    let mut conn = pool.get().expect("connection");
    naskah::db::migrate::run_pending(&mut conn).expect("migrate");
    naskah::demo::create(&mut conn).expect("demo data");
    let office = naskah::office::find_by_code(&mut conn, code)
        .expect("query")
        .expect("office");
    let (_, sop) = workflow::current_sop(&mut conn, office.id).expect("sop");
    let applicant_role = sop
        .roles
        .iter()
        .find(|r| r.applicant)
        .expect("an applicant role");
    let applicant = person(&mut conn, &format!("{code}.{}", applicant_role.id));
    drop(conn);
    (
        pool,
        Office {
            code,
            id: office.id,
            sop,
            applicant,
        },
    )
}

fn person(conn: &mut DbConn, username: &str) -> PersonId {
    naskah::people::find_by_username(conn, username)
        .expect("query")
        .unwrap_or_else(|| panic!("no person {username}"))
        .id
}

fn username(conn: &mut DbConn, id: PersonId) -> String {
    people::table
        .find(id)
        .select(people::username)
        .first(conn)
        .expect("person")
}

/// The demo person who holds `role` at the office.
fn holder(conn: &mut DbConn, office: &Office, role: &str) -> PersonId {
    person_roles::table
        .inner_join(people::table)
        .filter(person_roles::office_id.eq(office.id))
        .filter(person_roles::role.eq(role))
        .order(people::username)
        .select(people::id)
        .first(conn)
        .unwrap_or_else(|_| panic!("nobody holds {role} at {}", office.code))
}

fn settings() -> naskah::letters::store::Settings {
    naskah::letters::store::Settings {
        public_url: "https://naskah.example.go.id".into(),
        tte_issuer: "Balai Besar Sertifikasi Elektronik (BSrE), Badan Siber dan Sandi Negara"
            .into(),
        templates: None,
    }
}

fn file(conn: &mut DbConn, office: &Office, at: DateTime<Utc>) -> RequestId {
    workflow::file_request(
        conn,
        office.id,
        office.applicant,
        &NewRequest {
            organization: "Dinas Kesehatan",
            application_name: "SIMPUS (Sistem Informasi Puskesmas)",
            subdomain: Some("simpus"),
            application_type: Some("aplikasi web"),
        },
        at,
    )
    .expect("filed")
}

/// The item as the expectations below write it.
fn label(item: &Item) -> String {
    match item {
        Item::Letter {
            kind,
            state: LetterState::Draft,
        } => format!("letter:{}", kind.id()),
        Item::Letter { kind, state } => format!("letter:{}:{}", kind.id(), state.id()),
        Item::Attachment { id } => format!("attachment:{}", id.id()),
        Item::Artefact { id } => format!("artefact:{}", id.id()),
    }
}

/// Makes `item` exist for the request, as the person who would make it. Letters are written to
/// the database directly until the letters issue generates them from templates.
fn produce(
    conn: &mut DbConn,
    office: &Office,
    request: RequestId,
    actor: PersonId,
    item: &Item,
    at: DateTime<Utc>,
) {
    match item {
        Item::Letter { kind, state } => {
            // The draft is generated from its template by the workflow; numbering and signing
            // (later issues) are stood in for by setting the state.
            let existing: Option<i64> = letters::table
                .filter(letters::request_id.eq(request))
                .filter(letters::kind.eq(kind.id()))
                .select(letters::id)
                .first(conn)
                .optional()
                .expect("query");
            let id = match existing {
                Some(id) => id,
                None => {
                    workflow::produce_letter(
                        conn,
                        request,
                        actor,
                        *kind,
                        &naskah::letters::sample(*kind),
                        &settings(),
                        at,
                    )
                    .unwrap_or_else(|e| panic!("{kind}: {e}"))
                    .0
                }
            };
            if *state != LetterState::Draft {
                diesel::update(letters::table.find(id))
                    .set(letters::status.eq(state.id()))
                    .execute(conn)
                    .expect("update letter");
            }
        }
        Item::Attachment { id } => {
            workflow::add_item(
                conn,
                request,
                office.applicant,
                ItemRef::Attachment(*id),
                "berkas.pdf",
                Some(b"%PDF-1.7"),
                at,
            )
            .expect("attachment");
        }
        Item::Artefact { id } => {
            workflow::add_item(
                conn,
                request,
                actor,
                ItemRef::Artefact(*id),
                "simpus.example.go.id",
                None,
                at,
            )
            .expect("artefact");
        }
    }
}

/// Drives one request of `code`'s SOP to its end, taking `decisions` in order at the decision
/// steps, and checks it against `expected`: (step, the role suffix of the actor's username,
/// what had to be made before the step could be completed).
fn drive(
    db: &TestDb,
    code: &'static str,
    decisions: &[&str],
    outcome: &str,
    expected: &[(&str, &str, &[&str])],
) {
    let (pool, office) = setup(db, code);
    let mut conn = pool.get().expect("connection");
    let request = file(&mut conn, &office, clock(0));
    let mut made: Vec<String> = Vec::new();
    let mut decisions = decisions.iter();
    let mut trace: Vec<(String, String, Vec<String>)> = Vec::new();
    for minute in 1.. {
        assert!(minute < 100, "the request does not end");
        let at = clock(minute);
        let req = workflow::find(&mut conn, request).expect("request");
        let Some(step_no) = req.current_step.clone() else {
            break;
        };
        let step = office.sop.step(&step_no).expect("step").clone();
        let decision = matches!(step.route, Route::Decision { .. }).then(|| {
            *decisions
                .next()
                .expect("a decision for every decision step")
        });
        let applicant_step = step
            .actors
            .iter()
            .any(|a| office.sop.role(a).is_some_and(|r| r.applicant));
        let actor = if applicant_step {
            office.applicant
        } else {
            holder(&mut conn, &office, &step.actors[0])
        };
        let branch_outputs = match (&step.route, decision) {
            (Route::Decision { branches, .. }, Some(value)) => branches
                .iter()
                .find(|b| b.value == value)
                .expect("branch")
                .outputs
                .clone(),
            _ => Vec::new(),
        };
        let needed: Vec<&Item> = step
            .requires
            .iter()
            .chain(&step.outputs)
            .chain(&branch_outputs)
            .collect();
        let mut to_make: Vec<&Item> = needed
            .into_iter()
            .filter(|i| !made.contains(&label(i)))
            .collect();
        to_make.dedup();
        if !to_make.is_empty() {
            let refused =
                workflow::advance(&mut conn, request, actor, &step_no, decision, None, at);
            match refused {
                Err(WorkflowError::Missing { missing, .. }) => {
                    for item in &to_make {
                        assert!(
                            missing.contains(&item.to_string()),
                            "step {step_no}: {missing} names {item}"
                        );
                    }
                }
                other => panic!("step {step_no} without {to_make:?}: {other:?}"),
            }
        }
        for item in &to_make {
            produce(&mut conn, &office, request, actor, item, at);
            made.push(label(item));
        }
        let moved = workflow::advance(
            &mut conn,
            request,
            actor,
            &step_no,
            decision,
            Some("dicatat"),
            at,
        )
        .unwrap_or_else(|e| panic!("step {step_no}: {e}"));
        assert_eq!(moved.from, step_no);
        let who = username(&mut conn, actor);
        let suffix = who
            .strip_prefix(&format!("{code}."))
            .unwrap_or(&who)
            .to_owned();
        trace.push((step_no, suffix, to_make.iter().map(|i| label(i)).collect()));
    }
    let expected: Vec<(String, String, Vec<String>)> = expected
        .iter()
        .map(|(s, a, m)| {
            (
                s.to_string(),
                a.to_string(),
                m.iter().map(|x| x.to_string()).collect(),
            )
        })
        .collect();
    assert_eq!(trace, expected);
    let req = workflow::find(&mut conn, request).expect("request");
    assert_eq!(req.status, outcome);
    assert!(decisions.next().is_none(), "every decision was used");

    // The history records each step once per pass, with who completed it.
    let history = workflow::history(&mut conn, request, clock(200)).expect("history");
    let steps: Vec<&str> = history.iter().map(|h| h.step_no.as_str()).collect();
    let visited: Vec<&str> = expected.iter().map(|(s, _, _)| s.as_str()).collect();
    assert_eq!(steps, visited);
    assert!(history.iter().all(|h| h.completed_at.is_some()));
    assert_eq!(naskah::audit::verify(&mut conn).expect("verify"), vec![]);

    // The letter chain: every letter the steps required, in the order they were made, each
    // stored as a generated PDF whose SHA-256 is recorded.
    let made_letters: Vec<String> = made
        .iter()
        .filter_map(|m| m.strip_prefix("letter:"))
        .map(|m| m.split(':').next().unwrap_or_default().to_owned())
        .fold(Vec::new(), |mut seen, kind| {
            if !seen.contains(&kind) {
                seen.push(kind);
            }
            seen
        });
    let chain = naskah::letters::store::chain(&mut conn, request).expect("chain");
    let kinds: Vec<String> = chain.iter().map(|l| l.kind.clone()).collect();
    assert_eq!(kinds, made_letters);
    for letter in &chain {
        let revisions = naskah::letters::store::revisions(&mut conn, letter.id).expect("revisions");
        assert_eq!(revisions.len(), 1, "{}", letter.kind);
        let first = &revisions[0];
        assert_eq!((first.revision, first.purpose.as_str()), (1, "generated"));
        assert!(first.pdf.starts_with(b"%PDF-"));
        assert_eq!(first.sha256, naskah::digest::sha256_hex(&first.pdf));
        assert_eq!(first.size, first.pdf.len() as i64);
    }
}

on_both_backends! {
    fn banggai_happy_path(db) {
        drive(db, "banggai", &["sesuai"], "finished", &[
            ("1", "pemohon", &["letter:surat_permohonan", "attachment:manual_book", "attachment:file_aplikasi"]),
            ("2", "sekretariat", &["letter:lembar_disposisi"]),
            ("3", "kadis", &[]),
            ("4", "kabid_egov", &[]),
            ("5", "tim_teknis", &["letter:laporan_uji_kelayakan"]),
            ("6", "kadis", &["artefact:hasil_uji"]),
            ("7", "kabid_egov", &["letter:surat_rekomendasi"]),
            ("8", "kadis", &["letter:surat_rekomendasi:signed"]),
            ("9", "tim_teknis", &["artefact:subdomain", "artefact:server", "artefact:akun_hosting"]),
            ("10", "tim_teknis", &["letter:berita_acara_serah_terima:signed"]),
        ]);
    }

    fn banggai_test_fails(db) {
        drive(db, "banggai", &["tidak-sesuai"], "rejected", &[
            ("1", "pemohon", &["letter:surat_permohonan", "attachment:manual_book", "attachment:file_aplikasi"]),
            ("2", "sekretariat", &["letter:lembar_disposisi"]),
            ("3", "kadis", &[]),
            ("4", "kabid_egov", &[]),
            ("5", "tim_teknis", &["letter:laporan_uji_kelayakan"]),
            ("6", "kadis", &["artefact:hasil_uji", "letter:surat_tanggapan_penolakan:signed"]),
        ]);
    }

    fn sumbar_happy_path(db) {
        drive(db, "sumbar", &["ya", "ya"], "finished", &[
            ("1", "pic_opd", &["letter:surat_permohonan"]),
            ("2", "kadis", &["letter:lembar_disposisi"]),
            ("3", "kabid_aptika", &[]),
            ("4", "koordinator", &[]),
            ("5", "koordinator", &[]),
            ("6", "tim_teknis", &["letter:laporan_analisis_teknis"]),
            ("7", "kabid_aptika", &[]),
            ("8", "tim_teknis", &["artefact:subdomain", "artefact:server", "artefact:aplikasi_terpasang"]),
            ("9", "helpdesk", &["letter:laporan_hasil_hosting"]),
            ("10", "koordinator", &[]),
            ("11", "kabid_aptika", &["letter:laporan_hasil_hosting:signed"]),
            ("12", "kadis", &[]),
        ]);
    }

    fn sumbar_documents_incomplete_go_back_to_the_opd(db) {
        drive(db, "sumbar", &["tidak", "ya", "ya"], "finished", &[
            ("1", "pic_opd", &["letter:surat_permohonan"]),
            ("2", "kadis", &["letter:lembar_disposisi"]),
            ("3", "kabid_aptika", &[]),
            ("4", "koordinator", &["letter:surat_tanggapan_kelengkapan:signed"]),
            ("1", "pic_opd", &[]),
            ("2", "kadis", &[]),
            ("3", "kabid_aptika", &[]),
            ("4", "koordinator", &[]),
            ("5", "koordinator", &[]),
            ("6", "tim_teknis", &["letter:laporan_analisis_teknis"]),
            ("7", "kabid_aptika", &[]),
            ("8", "tim_teknis", &["artefact:subdomain", "artefact:server", "artefact:aplikasi_terpasang"]),
            ("9", "helpdesk", &["letter:laporan_hasil_hosting"]),
            ("10", "koordinator", &[]),
            ("11", "kabid_aptika", &["letter:laporan_hasil_hosting:signed"]),
            ("12", "kadis", &[]),
        ]);
    }

    fn sumbar_kabid_refuses(db) {
        drive(db, "sumbar", &["ya", "tidak"], "rejected", &[
            ("1", "pic_opd", &["letter:surat_permohonan"]),
            ("2", "kadis", &["letter:lembar_disposisi"]),
            ("3", "kabid_aptika", &[]),
            ("4", "koordinator", &[]),
            ("5", "koordinator", &[]),
            ("6", "tim_teknis", &["letter:laporan_analisis_teknis"]),
            ("7", "kabid_aptika", &["letter:surat_tanggapan_penolakan:signed"]),
        ]);
    }

    fn malut_happy_path(db) {
        drive(db, "malut", &["lulus"], "finished", &[
            ("1", "kabid_tik", &["letter:surat_permohonan", "attachment:nama_subdomain", "letter:lembar_disposisi"]),
            ("2", "kabid_tik", &[]),
            ("3", "jft_keamanan", &["attachment:file_aplikasi", "artefact:evaluasi_keamanan"]),
            ("4", "jft_hosting", &["artefact:server", "artefact:alamat_ip", "artefact:akun_hosting"]),
            ("5", "jft_domain", &["artefact:subdomain", "letter:surat_pemberitahuan_hosting:signed"]),
            ("6", "opd_pemohon", &[]),
        ]);
    }

    fn malut_security_evaluation_fails(db) {
        drive(db, "malut", &["tidak-lulus"], "rejected", &[
            ("1", "kabid_tik", &["letter:surat_permohonan", "attachment:nama_subdomain", "letter:lembar_disposisi"]),
            ("2", "kabid_tik", &[]),
            ("3", "jft_keamanan", &["attachment:file_aplikasi", "artefact:evaluasi_keamanan", "letter:surat_tanggapan_penolakan:signed"]),
        ]);
    }

    fn bolmut_happy_path(db) {
        drive(db, "bolmut", &["ya"], "finished", &[
            ("1", "kepala_opd", &["attachment:rekomendasi_tim_teknis", "attachment:surat_penunjukan_admin", "attachment:petunjuk_instalasi", "letter:surat_permohonan"]),
            ("2", "kadis", &["letter:lembar_disposisi"]),
            ("3", "kabid_aptika", &[]),
            ("4", "kasie_egov", &["artefact:server"]),
            ("5", "tenaga_teknis", &["artefact:dokumentasi_infrastruktur"]),
            ("6", "tenaga_teknis", &["artefact:aplikasi_terpasang"]),
            ("7", "tenaga_teknis", &["artefact:dokumentasi_aplikasi", "letter:laporan_hasil_hosting"]),
            ("8", "kasie_egov", &["letter:surat_tanggapan_persetujuan"]),
            ("9", "kabid_aptika", &[]),
            ("10", "kadis", &["letter:surat_tanggapan_persetujuan:signed"]),
        ]);
    }

    fn bolmut_requirements_incomplete_go_back_to_the_opd(db) {
        drive(db, "bolmut", &["tidak", "ya"], "finished", &[
            ("1", "kepala_opd", &["attachment:rekomendasi_tim_teknis", "attachment:surat_penunjukan_admin", "attachment:petunjuk_instalasi", "letter:surat_permohonan"]),
            ("2", "kadis", &["letter:lembar_disposisi"]),
            ("3", "kabid_aptika", &["letter:surat_tanggapan_kelengkapan:signed"]),
            ("1", "kepala_opd", &[]),
            ("2", "kadis", &[]),
            ("3", "kabid_aptika", &[]),
            ("4", "kasie_egov", &["artefact:server"]),
            ("5", "tenaga_teknis", &["artefact:dokumentasi_infrastruktur"]),
            ("6", "tenaga_teknis", &["artefact:aplikasi_terpasang"]),
            ("7", "tenaga_teknis", &["artefact:dokumentasi_aplikasi", "letter:laporan_hasil_hosting"]),
            ("8", "kasie_egov", &["letter:surat_tanggapan_persetujuan"]),
            ("9", "kabid_aptika", &[]),
            ("10", "kadis", &["letter:surat_tanggapan_persetujuan:signed"]),
        ]);
    }

    fn tarakan_happy_path(db) {
        drive(db, "tarakan", &["setuju"], "finished", &[
            ("1", "opd", &["letter:surat_permohonan"]),
            ("2", "bagian_umum", &["artefact:surat_terpindai", "artefact:nomor_agenda", "letter:lembar_disposisi"]),
            ("3", "kadis", &[]),
            ("4", "bidang_aplikasi", &["artefact:data_tindak_lanjut"]),
            ("5", "kadis", &["letter:surat_tanggapan_persetujuan:signed"]),
            ("6", "bidang_aplikasi", &["artefact:server", "artefact:alamat_ip", "artefact:subdomain"]),
            ("7", "bidang_aplikasi", &["letter:surat_pemberitahuan_hosting:signed"]),
            ("8", "bidang_aplikasi", &["letter:laporan_hasil_hosting"]),
            ("9", "bidang_aplikasi", &["letter:laporan_hasil_hosting:signed"]),
            ("10", "kadis", &[]),
        ]);
    }

    fn tarakan_request_refused(db) {
        drive(db, "tarakan", &["tidak-setuju"], "rejected", &[
            ("1", "opd", &["letter:surat_permohonan"]),
            ("2", "bagian_umum", &["artefact:surat_terpindai", "artefact:nomor_agenda", "letter:lembar_disposisi"]),
            ("3", "kadis", &[]),
            ("4", "bidang_aplikasi", &["artefact:data_tindak_lanjut"]),
            ("5", "kadis", &["letter:surat_tanggapan_penolakan:signed"]),
        ]);
    }

    fn refused_transitions_change_nothing(db) {
        let (pool, office) = setup(db, "banggai");
        let mut conn = pool.get().expect("connection");
        let request = file(&mut conn, &office, clock(0));
        for item in &office.sop.step("1").expect("step 1").requires {
            produce(&mut conn, &office, request, office.applicant, item, clock(1));
        }
        workflow::advance(&mut conn, request, office.applicant, "1", None, None, clock(2)).expect("step 1");
        let sekretariat = person(&mut conn, "banggai.sekretariat");
        produce(&mut conn, &office, request, sekretariat, &office.sop.step("2").expect("step 2").outputs[0], clock(3));

        let snapshot = |conn: &mut DbConn| {
            let req = workflow::find(conn, request).expect("request");
            let steps: i64 = request_steps::table.count().get_result(conn).expect("count");
            let entries: i64 = audit_log::table.count().get_result(conn).expect("count");
            (req.current_step, req.status, req.updated_at, steps, entries)
        };
        let before = snapshot(&mut conn);
        let tim_teknis = person(&mut conn, "banggai.tim_teknis");
        let other_office_head = person(&mut conn, "sumbar.kadis");
        let cases: Vec<(&str, Result<workflow::Moved, WorkflowError>, &str)> = vec![
            ("wrong role", workflow::advance(&mut conn, request, tim_teknis, "2", None, None, clock(4)),
                "langkah 2 dikerjakan oleh Sekretariat"),
            ("another office's official", workflow::advance(&mut conn, request, other_office_head, "2", None, None, clock(4)),
                "Anda tidak memegang peran tersebut"),
            ("out of order", workflow::advance(&mut conn, request, sekretariat, "3", None, None, clock(4)),
                "sedang berada pada langkah 2, bukan langkah 3"),
            ("a step already done", workflow::advance(&mut conn, request, office.applicant, "1", None, None, clock(4)),
                "bukan langkah 1"),
            ("a decision on a plain step", workflow::advance(&mut conn, request, sekretariat, "2", Some("ya"), None, clock(4)),
                "bukan langkah keputusan"),
        ];
        for (what, result, message) in cases {
            let error = result.err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains(message), "{what}: {error:?}");
            assert_eq!(snapshot(&mut conn), before, "{what} changed nothing");
        }

        // Steps 2 to 5 done properly; at step 6 the decision is checked.
        let mut minute = 10;
        for step in ["2", "3", "4", "5"] {
            let actor = match step {
                "2" => sekretariat,
                "3" => person(&mut conn, "banggai.kadis"),
                "4" => person(&mut conn, "banggai.kabid_egov"),
                _ => tim_teknis,
            };
            if step == "5" {
                // Without its report the step is refused, naming it, and nothing changes.
                let before = snapshot(&mut conn);
                let error = workflow::advance(&mut conn, request, actor, step, None, None, clock(minute)).err().map(|e| e.to_string());
                assert_eq!(error.as_deref(), Some("langkah 5 belum dapat diselesaikan; belum ada: Laporan Uji Kelayakan Aplikasi"));
                assert_eq!(snapshot(&mut conn), before);
                produce(&mut conn, &office, request, actor, &office.sop.step("5").expect("step 5").outputs[0], clock(minute));
            }
            workflow::advance(&mut conn, request, actor, step, None, None, clock(minute)).expect(step);
            minute += 1;
        }
        let kadis = person(&mut conn, "banggai.kadis");
        let before = snapshot(&mut conn);
        for (decision, message) in [(None, "memerlukan keputusan: sesuai, tidak-sesuai"), (Some("mungkin"), "'mungkin' bukan pilihan")] {
            let error = workflow::advance(&mut conn, request, kadis, "6", decision, None, clock(minute)).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(error.contains(message), "{error}");
            assert_eq!(snapshot(&mut conn), before);
        }
        // A letter is made at the step that makes it, by the step's actor.
        let sample = naskah::letters::sample(naskah::letters::LetterKind::BeritaAcaraSerahTerima);
        let error = workflow::produce_letter(&mut conn, request, kadis, naskah::letters::LetterKind::BeritaAcaraSerahTerima, &sample, &settings(), clock(minute))
            .err().map(|e| e.to_string());
        assert_eq!(error.as_deref(), Some("langkah 6 tidak menghasilkan Berita Acara Serah Terima"));
        let sample = naskah::letters::sample(naskah::letters::LetterKind::SuratTanggapanPenolakan);
        let error = workflow::produce_letter(&mut conn, request, tim_teknis, naskah::letters::LetterKind::SuratTanggapanPenolakan, &sample, &settings(), clock(minute))
            .err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("langkah 6 dikerjakan oleh Kepala Dinas"), "{error}");
        assert_eq!(snapshot(&mut conn), before);
        // The applicant's attachments are the applicant's alone; records are the staff's.
        let error = workflow::add_item(&mut conn, request, kadis, ItemRef::Attachment(naskah::sop::Attachment::ManualBook), "x.pdf", None, clock(minute));
        assert!(error.is_err());
        let error = workflow::add_item(&mut conn, request, office.applicant, ItemRef::Artefact(naskah::sop::Artefact::Subdomain), "x", None, clock(minute));
        assert!(error.is_err());
        assert_eq!(snapshot(&mut conn), before);
    }

    fn only_a_registered_applicant_files_a_request(db) {
        let (pool, office) = setup(db, "banggai");
        let mut conn = pool.get().expect("connection");
        let new = NewRequest {
            organization: "Dinas Kesehatan",
            application_name: "SIMPUS",
            subdomain: None,
            application_type: None,
        };
        for username in ["banggai.sekretariat", "sumbar.pic_opd"] {
            let someone = person(&mut conn, username);
            let error = workflow::file_request(&mut conn, office.id, someone, &new, clock(0)).err().map(|e| e.to_string());
            assert_eq!(error.as_deref(), Some("hanya Unit Kerja Pemohon yang terdaftar di kantor ini yang dapat mengajukan permohonan"), "{username}");
        }
        let blank = NewRequest { application_name: "  ", ..new.clone() };
        assert!(workflow::file_request(&mut conn, office.id, office.applicant, &blank, clock(0)).is_err());
        let requests: i64 = naskah::db::schema::requests::table.count().get_result(&mut conn).expect("count");
        assert_eq!(requests, 0);
    }

    fn a_request_keeps_the_sop_version_it_was_filed_under(db) {
        let (pool, office) = setup(db, "banggai");
        let mut conn = pool.get().expect("connection");
        let (first_version, _) = workflow::current_sop(&mut conn, office.id).expect("sop");
        let request = file(&mut conn, &office, clock(0));
        let changed = include_str!("../../sops/banggai-hosting.xml")
            .replace("Menerima surat permohonan dan diteruskan", "Menerima dan mencatat surat permohonan, diteruskan")
            .replace(r#"<step no="5" actor="tim_teknis" time="1 hari">"#, r#"<step no="5" actor="tim_teknis" time="2 hari">"#);
        let second_version = workflow::install_sop(&mut conn, office.id, &changed, None).expect("install");
        assert_ne!(first_version, second_version);
        assert_eq!(workflow::install_sop(&mut conn, office.id, &changed, None).expect("again"), second_version, "the same text is not a new version");
        let req = workflow::find(&mut conn, request).expect("request");
        assert_eq!(req.sop_version_id, first_version);
        let kept = workflow::sop_version(&mut conn, req.sop_version_id).expect("sop");
        assert!(kept.step("2").expect("step 2").description.starts_with("Menerima surat permohonan dan diteruskan"));
        // A request filed now follows the new version.
        let newer = file(&mut conn, &office, clock(1));
        assert_eq!(workflow::find(&mut conn, newer).expect("request").sop_version_id, second_version);
    }

    fn a_hosting_password_is_sealed_and_shown_to_the_applicant_once(db) {
        use naskah::db::schema::{account_handovers, request_items};
        use naskah::handover::{self, Key};
        let (pool, office) = setup(db, "banggai");
        let mut conn = pool.get().expect("connection");
        let request = file(&mut conn, &office, clock(0));
        let team = holder(&mut conn, &office, "tim_teknis");
        let kabid = holder(&mut conn, &office, "kabid_egov");
        let keys = tempfile::tempdir().expect("tempdir");
        let key = Key::load_or_create(keys.path()).expect("key");
        let first = "Pertama!kata-sandi-01";
        let second = "Kedua!kata-sandi-02";

        // Only staff hand over; the applicant cannot.
        let refused = handover::hand_over(&mut conn, &key, request, office.applicant, "simpus", first, clock(1));
        assert!(matches!(refused, Err(WorkflowError::Forbidden(_))), "{refused:?}");
        handover::hand_over(&mut conn, &key, request, team, "simpus", first, clock(2)).expect("handed over");
        // Handed over again before the applicant looked: the first password is withdrawn.
        handover::hand_over(&mut conn, &key, request, team, "simpus", second, clock(3)).expect("again");
        let recorded: Vec<String> = request_items::table
            .filter(request_items::request_id.eq(request))
            .filter(request_items::item.eq("akun_hosting"))
            .select(request_items::value)
            .load(&mut conn)
            .expect("records");
        assert_eq!(recorded, ["simpus", "simpus"]);

        // Nobody but the applicant sees it.
        for other in [team, kabid] {
            let refused = handover::reveal(&mut conn, &key, request, other, clock(4));
            assert!(matches!(refused, Err(WorkflowError::Forbidden(_))), "{refused:?}");
        }
        // Under another server's key it does not open, and stays for the right key.
        let stranger = Key::load_or_create(tempfile::tempdir().expect("tempdir").path()).expect("key");
        let refused = handover::reveal(&mut conn, &stranger, request, office.applicant, clock(4));
        assert!(matches!(refused, Err(WorkflowError::Invalid(_))), "{refused:?}");
        let shown = handover::reveal(&mut conn, &key, request, office.applicant, clock(5)).expect("revealed");
        assert_eq!((shown.account.as_str(), shown.password.as_str()), ("simpus", second));
        let again = handover::reveal(&mut conn, &key, request, office.applicant, clock(6));
        assert!(matches!(again, Err(WorkflowError::Gone(_))), "{again:?}");

        // Nothing of either password is left in the database: the sealed bytes are wiped,
        // and the audit log names the account only.
        let sealed: Vec<Option<Vec<u8>>> = account_handovers::table
            .select(account_handovers::sealed)
            .load(&mut conn)
            .expect("handovers");
        assert_eq!(sealed, [None, None]);
        let entries: Vec<(String, String)> = audit_log::table
            .select((audit_log::action, audit_log::detail))
            .load(&mut conn)
            .expect("audit");
        let actions: Vec<&str> = entries.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(
            actions.iter().filter(|a| **a == "request.account_handed_over").count(),
            2
        );
        assert!(actions.contains(&"request.account_revealed"));
        let text = format!("{entries:?}");
        assert!(!text.contains("Pertama") && !text.contains("Kedua"), "{text}");
        let shown = handover::of_request(&mut conn, request).expect("handovers");
        assert_eq!(
            shown.iter().map(|h| (h.replaced, h.revealed_at.is_some())).collect::<Vec<_>>(),
            [(true, true), (false, true)]
        );
        assert_eq!(naskah::audit::verify(&mut conn).expect("verify"), vec![]);
    }

    fn sla_clock_runs_in_working_time(db) {
        let (pool, office) = setup(db, "banggai");
        let mut conn = pool.get().expect("connection");
        // Banggai is in WITA (UTC+8): 07:30 UTC on Friday 20 November 2026 is 15:30 there.
        let friday = Utc.with_ymd_and_hms(2026, 11, 20, 7, 30, 0).single().expect("time");
        let request = file(&mut conn, &office, friday);
        let mut made = Vec::new();
        for step in ["1", "2", "3", "4"] {
            let sop_step = office.sop.step(step).expect("step").clone();
            let actor = match step {
                "1" => office.applicant,
                "2" => person(&mut conn, "banggai.sekretariat"),
                "3" => person(&mut conn, "banggai.kadis"),
                _ => person(&mut conn, "banggai.kabid_egov"),
            };
            for item in sop_step.requires.iter().chain(&sop_step.outputs) {
                if !made.contains(item) {
                    produce(&mut conn, &office, request, actor, item, friday);
                    made.push(item.clone());
                }
            }
            workflow::advance(&mut conn, request, actor, step, None, None, friday).expect(step);
        }
        // Step 5 (1 hari) entered on Friday 15:30 WITA is due on Monday 15:30 WITA; it is done
        // on Tuesday 08:00 WITA (00:00 UTC), late, after 30 + 510 + 30 working minutes.
        let tuesday = Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0).single().expect("time");
        let tim_teknis = person(&mut conn, "banggai.tim_teknis");
        produce(&mut conn, &office, request, tim_teknis, &office.sop.step("5").expect("step").outputs[0], tuesday);
        workflow::advance(&mut conn, request, tim_teknis, "5", None, None, tuesday).expect("step 5");

        let history = workflow::history(&mut conn, request, tuesday).expect("history");
        let step5 = history.iter().find(|h| h.step_no == "5").expect("step 5");
        let local = |text: &str| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("time");
        assert_eq!(step5.standard, "1 hari");
        assert_eq!(step5.entered_at, local("2026-11-20 15:30"));
        assert_eq!(step5.deadline, Some(local("2026-11-23 15:30")));
        assert_eq!(step5.completed_at, Some(local("2026-11-24 08:00")));
        assert_eq!(step5.working_minutes, 570);
        assert!(step5.late);
        // Step 1 (5 menit) was done at once: on time.
        let step1 = &history[0];
        assert_eq!(step1.deadline, Some(local("2026-11-20 15:35")));
        assert!(!step1.late);
        // Step 6 is open: its 5 minutes started on Tuesday 08:00 and are not over at 08:00.
        let step6 = history.last().expect("step 6");
        assert_eq!((step6.step_no.as_str(), step6.completed_at, step6.late), ("6", None, false));
        let later = workflow::history(&mut conn, request, tuesday + chrono::Duration::minutes(6)).expect("history");
        assert!(later.last().expect("step 6").late, "open past its deadline is late");
    }
}

#[test]
fn every_branch_of_every_seed_sop_is_taken_by_some_test_above() {
    // The scenarios above take these decisions; every branch of every shipped SOP must be among
    // them, so that a branch added to an SOP gets a test.
    let taken: &[(&str, &str, &str)] = &[
        ("banggai-hosting", "6", "sesuai"),
        ("banggai-hosting", "6", "tidak-sesuai"),
        ("sumbar-hosting", "4", "ya"),
        ("sumbar-hosting", "4", "tidak"),
        ("sumbar-hosting", "7", "ya"),
        ("sumbar-hosting", "7", "tidak"),
        ("malut-hosting", "3", "lulus"),
        ("malut-hosting", "3", "tidak-lulus"),
        ("bolmut-hosting", "3", "ya"),
        ("bolmut-hosting", "3", "tidak"),
        ("tarakan-hosting", "5", "setuju"),
        ("tarakan-hosting", "5", "tidak-setuju"),
    ];
    let root = crate::common::crate_root().join("sops");
    let mut branches = Vec::new();
    for entry in std::fs::read_dir(&root).expect("sops") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "xml") {
            continue;
        }
        let sop = Sop::from_xml(&std::fs::read_to_string(&path).expect("read")).expect("valid");
        for step in &sop.steps {
            if let Route::Decision { branches: list, .. } = &step.route {
                for branch in list {
                    branches.push((sop.id.clone(), step.no.clone(), branch.value.clone()));
                }
            }
        }
    }
    branches.sort();
    let mut taken: Vec<(String, String, String)> = taken
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    taken.sort();
    assert_eq!(branches, taken);
}
