//! One finished request per demo office, so that a new user sees the system at work: filed by
//! the office's demo applicant, taken through every step of the office's SOP by the people it
//! names, each letter drafted from what naskah knows, numbered by the secretariat and signed
//! by its officials with their demo certificates — every letter of the Dinas in the chain, not
//! only those the SOP requires signed; the applicant's own letter stays theirs (their agency
//! numbers and signs it, and the demo applicant holds no certificate). Each step is its own transaction, as in the
//! application; the request is claimed first, so that of several instances starting on one
//! database one makes it.

use chrono::Utc;
use diesel::prelude::*;

use super::{DemoError, OFFICES};
use crate::db::schema::{letters, offices, people, requests};
use crate::db::{Db, DbConn, write_transaction};
use crate::ids::{LetterId, OfficeId, PersonId, RequestId};
use crate::letters::{LetterKind, LetterState};
use crate::office::Office;
use crate::sop::{Artefact, Item, Outcome, Route, Sop, Step, Target};
use crate::workflow::{self, ItemRef, NewRequest, compose};

/// The application each demo office hosted.
const APPLICATIONS: [(&str, &str, &str); 5] = [
    (
        "banggai",
        "SIMPUS (Sistem Informasi Manajemen Puskesmas)",
        "simpus",
    ),
    (
        "sumbar",
        "Dapodik Provinsi (Data Pokok Pendidikan)",
        "dapodik",
    ),
    ("malut", "e-Pajak Daerah", "epajak"),
    ("bolmut", "SIAK Terpadu (Administrasi Kependudukan)", "siak"),
    ("tarakan", "e-Planning Kota Tarakan", "eplanning"),
];

/// Makes the finished request of every demo office that has no request yet; returns how many
/// were made. Signing needs the demo certificates in `tte.pki_dir`.
pub fn make(
    db: &Db,
    letters: &crate::letters::store::Settings,
    tte: &crate::tte::Settings,
) -> Result<usize, DemoError> {
    let mut made = 0;
    for (code, application, slug) in APPLICATIONS {
        let mut conn = db.get().map_err(|e| DemoError::Data(e.to_string()))?;
        let Some(office) = crate::office::find_by_code(&mut conn, code)? else {
            continue;
        };
        let Some(request) = claim(&mut conn, &office, application, slug)? else {
            continue;
        };
        drive(&mut conn, &office, request, slug, letters, tte)?;
        made += 1;
    }
    Ok(made)
}

/// Files the office's demo request when it has none: one transaction that first locks the
/// office's row, so that a second instance waits and then finds the request.
fn claim(
    conn: &mut DbConn,
    office: &Office,
    application: &str,
    slug: &str,
) -> Result<Option<RequestId>, DemoError> {
    let demo = OFFICES
        .iter()
        .find(|o| o.code == office.code)
        .ok_or_else(|| DemoError::Data(format!("{} is not a demo office", office.code)))?;
    write_transaction(conn, |conn| {
        diesel::update(offices::table.find(office.id))
            .set(offices::code.eq(&office.code))
            .execute(conn)?;
        let existing: i64 = requests::table
            .filter(requests::office_id.eq(office.id))
            .count()
            .get_result(conn)?;
        if existing > 0 {
            return Ok(None);
        }
        let (_, sop) = workflow::current_sop(conn, office.id)?;
        let applicant = applicant_of(conn, office.id, &sop)?;
        let id = workflow::file_request(
            conn,
            office.id,
            applicant,
            &NewRequest {
                organization: demo.applicant_organization,
                application_name: application,
                subdomain: Some(slug),
                application_type: Some("aplikasi web"),
            },
            Utc::now(),
        )?;
        Ok(Some(id))
    })
}

fn applicant_of(conn: &mut DbConn, office: OfficeId, sop: &Sop) -> Result<PersonId, DemoError> {
    let role = sop
        .roles
        .iter()
        .find(|r| r.applicant)
        .ok_or_else(|| DemoError::Data("the SOP names no applicant".into()))?;
    crate::people::holder(conn, office, &[role.id.as_str()])?
        .ok_or_else(|| DemoError::Data(format!("nobody holds {}", role.id)))
}

/// The branch a demo request takes at a decision: the one that goes on (to a later step, or
/// to the end as finished).
fn going_on(sop: &Sop, step: &Step) -> Option<String> {
    let Route::Decision { branches, .. } = &step.route else {
        return None;
    };
    let here = sop.steps.iter().position(|s| s.no == step.no)?;
    branches
        .iter()
        .find(|b| match &b.to {
            Target::End(outcome) => *outcome == Outcome::Finished,
            Target::Step(no) => sop.steps.iter().position(|s| s.no == *no) > Some(here),
        })
        .map(|b| b.value.clone())
}

/// Takes `request` to its end.
fn drive(
    conn: &mut DbConn,
    office: &Office,
    request: RequestId,
    slug: &str,
    settings: &crate::letters::store::Settings,
    tte: &crate::tte::Settings,
) -> Result<(), DemoError> {
    let req = workflow::find(conn, request)?;
    let sop = workflow::sop_version(conn, req.sop_version_id)?;
    let secretary =
        crate::people::holder(conn, office.id, &[crate::people::roles::SECRETARIAT])?
            .ok_or_else(|| DemoError::Data(format!("{} has no secretariat", office.code)))?;
    for _ in 0..sop.steps.len() * 2 {
        let req = workflow::find(conn, request)?;
        let Some(no) = req.current_step.clone() else {
            return sign_the_rest(conn, office, request, secretary, settings, tte);
        };
        let step = sop
            .step(&no)
            .ok_or_else(|| DemoError::Data(format!("step {no} is not in the SOP")))?;
        let applicant_step = step
            .actors
            .iter()
            .any(|a| sop.role(a).is_some_and(|r| r.applicant));
        let actor = if applicant_step {
            req.applicant_id
        } else {
            let roles: Vec<&str> = step.actors.iter().map(String::as_str).collect();
            crate::people::holder(conn, office.id, &roles)?
                .ok_or_else(|| DemoError::Data(format!("nobody takes step {no}")))?
        };
        let decision = going_on(&sop, step);
        let branch: Vec<Item> = match (&step.route, &decision) {
            (Route::Decision { branches, .. }, Some(value)) => branches
                .iter()
                .filter(|b| b.value == *value)
                .flat_map(|b| b.outputs.clone())
                .collect(),
            _ => Vec::new(),
        };
        for item in step.requires.iter().chain(&step.outputs).chain(&branch) {
            make_item(
                conn, office, request, actor, secretary, item, slug, settings, tte,
            )?;
        }
        workflow::advance(
            conn,
            request,
            actor,
            &no,
            decision.as_deref(),
            Some("contoh data demo"),
            Utc::now(),
        )?;
    }
    Err(DemoError::Data(format!(
        "the demo request of {} did not end",
        office.code
    )))
}

#[allow(clippy::too_many_arguments)]
fn make_item(
    conn: &mut DbConn,
    office: &Office,
    request: RequestId,
    actor: PersonId,
    secretary: PersonId,
    item: &Item,
    slug: &str,
    settings: &crate::letters::store::Settings,
    tte: &crate::tte::Settings,
) -> Result<(), DemoError> {
    let now = Utc::now();
    match item {
        Item::Attachment { id } => {
            if has_item(conn, request, "attachment", id.id())? {
                return Ok(());
            }
            let name = format!("{}.pdf", id.id().replace('_', "-"));
            // Whoever takes the step, the applicant attaches the documents.
            let applicant = workflow::find(conn, request)?.applicant_id;
            workflow::add_item(
                conn,
                request,
                applicant,
                ItemRef::Attachment(*id),
                &name,
                Some(&blank_pdf()),
                now,
            )?;
        }
        Item::Artefact { id } => {
            if has_item(conn, request, "artefact", id.id())? {
                return Ok(());
            }
            let value = record_value(*id, slug, &office.code);
            workflow::add_item(
                conn,
                request,
                actor,
                ItemRef::Artefact(*id),
                &value,
                None,
                now,
            )?;
        }
        Item::Letter { kind, state } => {
            let letter = match letter_of(conn, request, *kind)? {
                Some(letter) => letter,
                None => {
                    let date = crate::numbering::local_date(now, office.zone())
                        .format("%Y-%m-%d")
                        .to_string();
                    let fields = compose::draft(conn, request, *kind, actor, &date)?;
                    workflow::produce_letter(conn, request, actor, *kind, &fields, settings, now)?
                }
            };
            if *state >= LetterState::Numbered {
                number(conn, office, letter, secretary, settings)?;
            }
            if *state == LetterState::Signed {
                sign(conn, letter, tte)?;
            }
        }
    }
    Ok(())
}

/// Numbers and signs every letter of the finished chain the SOP left a draft, but the
/// applicant's own letter (their agency numbers and signs it).
fn sign_the_rest(
    conn: &mut DbConn,
    office: &Office,
    request: RequestId,
    secretary: PersonId,
    settings: &crate::letters::store::Settings,
    tte: &crate::tte::Settings,
) -> Result<(), DemoError> {
    let drafts: Vec<LetterId> = letters::table
        .filter(letters::request_id.eq(request))
        .filter(letters::status.eq_any(["draft", "numbered"]))
        .filter(letters::kind.ne(LetterKind::SuratPermohonan.id()))
        .order(letters::id)
        .select(letters::id)
        .load(conn)?;
    for letter in drafts {
        number(conn, office, letter, secretary, settings)?;
        sign(conn, letter, tte)?;
    }
    Ok(())
}

fn has_item(
    conn: &mut DbConn,
    request: RequestId,
    kind: &str,
    item: &str,
) -> Result<bool, DemoError> {
    use crate::db::schema::request_items;
    let count: i64 = request_items::table
        .filter(request_items::request_id.eq(request))
        .filter(request_items::kind.eq(kind))
        .filter(request_items::item.eq(item))
        .count()
        .get_result(conn)?;
    Ok(count > 0)
}

fn letter_of(
    conn: &mut DbConn,
    request: RequestId,
    kind: LetterKind,
) -> Result<Option<LetterId>, DemoError> {
    Ok(letters::table
        .filter(letters::request_id.eq(request))
        .filter(letters::kind.eq(kind.id()))
        .filter(letters::status.ne("void"))
        .select(letters::id)
        .first(conn)
        .optional()?)
}

/// Numbers a draft in the office's outgoing register, dated today where the office is.
fn number(
    conn: &mut DbConn,
    office: &Office,
    letter: LetterId,
    secretary: PersonId,
    settings: &crate::letters::store::Settings,
) -> Result<(), DemoError> {
    let status: String = letters::table
        .find(letter)
        .select(letters::status)
        .first(conn)?;
    if status != "draft" {
        return Ok(());
    }
    let fail = |e: crate::numbering::NumberingError| DemoError::Data(e.to_string());
    let register = crate::numbering::register_by_code(conn, office.id, "keluar").map_err(fail)?;
    let date = crate::numbering::local_date(Utc::now(), office.zone());
    crate::numbering::issue(conn, register.id, letter, date, secretary, crate::db::now())
        .map_err(fail)?;
    crate::letters::store::add_numbered_revision(conn, letter, secretary, settings)
        .map_err(|e| DemoError::Data(e.to_string()))?;
    Ok(())
}

/// Every official named in the letter's signature blocks signs it with their demo key.
fn sign(conn: &mut DbConn, letter: LetterId, tte: &crate::tte::Settings) -> Result<(), DemoError> {
    let fields: String = letters::table
        .find(letter)
        .select(letters::fields)
        .first(conn)?;
    let fields: serde_json::Value = serde_json::from_str(&fields).unwrap_or_default();
    for nip in crate::letters::signer_nips(&fields)
        .into_iter()
        .filter(|nip| !nip.is_empty())
    {
        let (person, username): (PersonId, String) = people::table
            .filter(people::nip.eq(&nip))
            .select((people::id, people::username))
            .first(conn)?;
        let passphrase = crate::signing::pki::passphrase_of(
            &tte.pki_dir,
            &crate::signing::pki::official_p12(&username),
        )
        .ok_or_else(|| DemoError::Data(format!("no demo passphrase for {username}")))?;
        match crate::tte::sign_letter(
            conn,
            tte,
            letter,
            person,
            &passphrase,
            crate::tte::Mode::Signature,
        ) {
            Ok(_) | Err(crate::tte::TteError::AlreadySigned) => {}
            Err(error) => return Err(DemoError::Data(format!("{username} signs: {error}"))),
        }
    }
    Ok(())
}

/// What the Dinas records, made up for the demo.
fn record_value(artefact: Artefact, slug: &str, office: &str) -> String {
    let host = format!("{slug}.{office}.go.id");
    match artefact {
        Artefact::Subdomain => host,
        Artefact::AlamatIp => "103.124.89.17".to_owned(),
        Artefact::Server => format!("VPS {slug} (4 vCPU, 8 GB RAM, 100 GB)"),
        Artefact::AkunHosting => format!("admin.{slug}"),
        Artefact::AplikasiTerpasang => format!("https://{host} (versi 1.0)"),
        Artefact::NomorAgenda => "0001".to_owned(),
        Artefact::SuratTerpindai => "surat-permohonan-terpindai.pdf".to_owned(),
        Artefact::HasilUji => "Sesuai: fitur, keamanan dan manual book memenuhi syarat".to_owned(),
        Artefact::EvaluasiKeamanan => "Lulus: tidak ditemukan kerentanan tingkat tinggi".to_owned(),
        Artefact::DataTindakLanjut => "Kebutuhan server dan subdomain dicatat".to_owned(),
        Artefact::DokumentasiInfrastruktur => "Topologi jaringan dan spesifikasi VPS".to_owned(),
        Artefact::DokumentasiAplikasi => "Panduan instalasi dan konfigurasi aplikasi".to_owned(),
    }
}

/// A valid one-page blank PDF, as the demo's stand-in for an applicant's attachment.
fn blank_pdf() -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ];
    let mut pdf = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = pdf.len();
    pdf.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        pdf.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}
