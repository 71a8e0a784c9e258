//! The first draft of a letter in a request's chain: every field its template reads, filled
//! from what naskah knows — the request, the applicant, the office and its head, the letters
//! and records made so far — so that the person writing it edits a complete letter instead of
//! starting from nothing. The person may change any of it before the letter is generated.

use diesel::prelude::*;
use serde_json::{Value, json};

use super::{Request, Result, WorkflowError, find, sop_version};
use crate::db::DbConn;
use crate::db::schema::{letters, request_items};
use crate::ids::{OfficeId, PersonId, RequestId};
use crate::letters::LetterKind;
use crate::office::Office;
use crate::people::Person;
use crate::sop::Artefact;

/// A draft's number before the secretariat gives it one: the dotted blank of a paper form.
const UNNUMBERED: &str = "…/…/…";

/// The draft of a letter of `kind` for `request`, written by `author`, dated `date` (the
/// office's local date, `YYYY-MM-DD`).
pub fn draft(
    conn: &mut DbConn,
    request: RequestId,
    kind: LetterKind,
    author: PersonId,
    date: &str,
) -> Result<Value> {
    let req = find(conn, request)?;
    let office = crate::office::find(conn, req.office_id)?;
    let author = crate::people::find(conn, author)?;
    let applicant = crate::people::find(conn, req.applicant_id)?;
    let head = holder(conn, req.office_id, &crate::people::roles::HEADS)?;
    let (request_number, request_date) = permohonan_reference(conn, &req)?;
    let records = records(conn, request)?;
    let sop = sop_version(conn, req.sop_version_id)?;
    let next_role = req
        .current_step
        .as_deref()
        .and_then(|no| {
            let at = sop.steps.iter().position(|s| s.no == no)?;
            sop.steps.get(at + 1)
        })
        .and_then(|step| step.actors.first())
        .and_then(|role| sop.role(role))
        .map(|role| role.name.clone());

    let application = &req.application_name;
    let organization = &req.applicant_organization;
    let head_of_applicant = format!("Kepala {organization}");
    let head_block = head.as_ref().map(signer_block);
    let official = head_block.clone().unwrap_or_else(|| signer_block(&author));
    // A report is signed by whoever wrote it when they are an official, else by the head.
    let reporter = if author.nip.is_some() {
        signer_block(&author)
    } else {
        official.clone()
    };
    let head_position = head
        .as_ref()
        .and_then(|h| h.position.clone())
        .unwrap_or_else(|| "Kepala Dinas".to_owned());
    let configuration = numbered_rows(&records);

    // The subdomain asked for, else the one the Dinas recorded; left blank for the writer to
    // fill in when neither is known (a request filed without one).
    let subdomain = req
        .subdomain
        .clone()
        .or_else(|| {
            records
                .iter()
                .find(|(a, _)| *a == Artefact::Subdomain)
                .map(|(_, v)| v.clone())
        })
        .unwrap_or_default();
    let mut fields = json!({
        "subdomain": subdomain,
        "sifat": "Biasa",
        "lampiran": "-",
        "date": date,
        "number": UNNUMBERED,
        "hal": format!("{} Aplikasi {application}", subject_of(kind)),
        "addressee": head_of_applicant,
        "addressee_place": office.city,
        "tembusan": [],
        "request_number": request_number,
        "request_date": request_date,
        "request_subject": format!("Permohonan Layanan Hosting Aplikasi {application}"),
        "signers": [official],
    });
    let own = match kind {
        LetterKind::SuratPermohonan => json!({
            "addressee": head_position,
            "hal": format!("Permohonan Layanan Hosting Aplikasi {application}"),
            "applicant_letterhead": applicant_letterhead(&office, organization),
            "application_purpose": format!(
                "mendukung layanan {organization} melalui aplikasi {application}"
            ),
            "attachments": attachments(conn, request)?,
            "signers": [{
                "position": applicant.position.clone().unwrap_or(head_of_applicant),
                "name": applicant.full_name,
            }],
        }),
        LetterKind::LembarDisposisi => json!({
            "hal": format!("Permohonan Layanan Hosting Aplikasi {application}"),
            "letter_from": head_of_applicant,
            "letter_number": request_number,
            "letter_date": request_date,
            "addressee": next_role.unwrap_or_else(|| "Kepala Bidang".to_owned()),
            "instructions": ["Proses lebih lanjut", "Untuk ditindaklanjuti"],
            "note": "Mohon ditindaklanjuti sesuai SOP dan dilaporkan hasilnya.",
        }),
        LetterKind::LaporanUjiKelayakan => json!({
            "addressee": head_position,
            "sender": sender(&author),
            "test_date": date,
            "results": [
                {"no": 1, "aspect": "Kesesuaian fitur dengan kebutuhan", "result": "Sesuai", "note": "-"},
                {"no": 2, "aspect": "Keamanan aplikasi", "result": "Sesuai", "note": "-"},
                {"no": 3, "aspect": "Manual book", "result": "Lengkap", "note": "-"},
            ],
            "conclusion": "Aplikasi layak untuk di-hosting pada server Pemerintah Daerah.",
            "signers": [reporter],
        }),
        LetterKind::LaporanAnalisisTeknis => json!({
            "addressee": head_position,
            "sender": sender(&author),
            "requirements": [
                {"no": 1, "item": "Server", "spec": "Sesuai kebutuhan aplikasi", "availability": "Tersedia"},
                {"no": 2, "item": "Subdomain", "spec": req.subdomain.clone().unwrap_or_else(|| "-".into()), "availability": "Tersedia"},
            ],
            "conclusion": "Kebutuhan teknis aplikasi dapat dipenuhi.",
            "signers": [reporter],
        }),
        LetterKind::LaporanHasilHosting => json!({
            "addressee": head_position,
            "sender": sender(&author),
            "configuration": configuration,
            "signers": [reporter],
        }),
        LetterKind::SuratRekomendasi => json!({
            "service": "Hosting aplikasi dan subdomain",
        }),
        LetterKind::SuratTanggapanPenolakan => json!({
            "reasons": ["Hasil pemeriksaan belum memenuhi persyaratan layanan hosting."],
        }),
        LetterKind::SuratTanggapanKelengkapan => json!({
            "missing_documents": ["Dokumen persyaratan yang belum dilengkapi"],
        }),
        LetterKind::SuratPemberitahuanHosting => json!({
            "configuration": configuration,
        }),
        LetterKind::BeritaAcaraSerahTerima => json!({
            "hal": format!("Serah Terima Akun Hosting dan Subdomain Aplikasi {application}"),
            "addressee": organization,
            "items": configuration,
            "signers": [reporter, {
                "position": applicant
                    .position
                    .clone()
                    .unwrap_or_else(|| format!("Pemohon, {organization}")),
                "name": applicant.full_name,
            }],
        }),
        LetterKind::SuratTanggapanPersetujuan => json!({}),
        LetterKind::LaporanSla | LetterKind::LaporanTahunan => {
            return Err(WorkflowError::Invalid(format!(
                "{} dibuat oleh jadwal laporan, bukan dalam permohonan",
                kind.name()
            )));
        }
    };
    if let (Value::Object(fields), Value::Object(own)) = (&mut fields, own) {
        fields.extend(own);
        // The subdomain only where the letter names it.
        if !matches!(
            kind,
            LetterKind::SuratPermohonan
                | LetterKind::SuratRekomendasi
                | LetterKind::SuratTanggapanPersetujuan
        ) {
            fields.remove("subdomain");
        }
        // Letters that do not answer the applicant's letter by its number and date.
        if matches!(
            kind,
            LetterKind::SuratPermohonan
                | LetterKind::LembarDisposisi
                | LetterKind::LaporanHasilHosting
                | LetterKind::BeritaAcaraSerahTerima
        ) {
            for key in ["request_number", "request_date", "request_subject"] {
                fields.remove(key);
            }
        }
    }
    Ok(fields)
}

/// The words a letter's subject starts with.
fn subject_of(kind: LetterKind) -> &'static str {
    match kind {
        LetterKind::SuratRekomendasi => "Rekomendasi Hosting",
        LetterKind::SuratTanggapanPenolakan
        | LetterKind::SuratTanggapanPersetujuan
        | LetterKind::SuratTanggapanKelengkapan => "Tanggapan atas Permohonan Hosting",
        LetterKind::SuratPemberitahuanHosting => "Pemberitahuan Data dan Konfigurasi Hosting",
        LetterKind::LaporanUjiKelayakan => "Laporan Hasil Uji Kelayakan",
        LetterKind::LaporanAnalisisTeknis => "Laporan Analisis Teknis",
        LetterKind::LaporanHasilHosting => "Laporan Hasil Hosting",
        _ => "Layanan Hosting",
    }
}

/// A signature block: jabatan, name, rank and NIP as the person's record has them.
fn signer_block(person: &Person) -> Value {
    let mut block = json!({
        "position": person.position.clone().unwrap_or_else(|| person.full_name.clone()),
        "name": person.full_name,
    });
    for (key, value) in [("rank", &person.rank), ("nip", &person.nip)] {
        if let (Value::Object(map), Some(value)) = (&mut block, value) {
            map.insert(key.into(), value.clone().into());
        }
    }
    block
}

fn sender(person: &Person) -> String {
    person
        .position
        .clone()
        .unwrap_or_else(|| person.full_name.clone())
}

fn holder(conn: &mut DbConn, office: OfficeId, roles: &[&str]) -> Result<Option<Person>> {
    match crate::people::holder(conn, office, roles)? {
        Some(id) => Ok(Some(crate::people::find(conn, id)?)),
        None => Ok(None),
    }
}

/// The applicant's letter the chain answers: its number and date when it has them (its own
/// `number` field, as the OPD numbered it, or the number naskah issued), else "-" and the day
/// the request was filed.
fn permohonan_reference(conn: &mut DbConn, req: &Request) -> Result<(String, String)> {
    let found: Option<(crate::ids::LetterId, String, Option<chrono::NaiveDate>)> = letters::table
        .filter(letters::request_id.eq(req.id))
        .filter(letters::kind.eq(LetterKind::SuratPermohonan.id()))
        .filter(letters::status.ne("void"))
        .order(letters::id)
        .select((letters::id, letters::fields, letters::letter_date))
        .first(conn)
        .optional()?;
    let filed = req.filed_at.date().format("%Y-%m-%d").to_string();
    let Some((id, fields, date)) = found else {
        return Ok(("-".to_owned(), filed));
    };
    if let Some((number, date)) =
        crate::numbering::number_of(conn, id).map_err(|e| WorkflowError::Invalid(e.to_string()))?
    {
        return Ok((number, date.format("%Y-%m-%d").to_string()));
    }
    let fields: Value = serde_json::from_str(&fields).unwrap_or(Value::Null);
    let number = fields
        .get("number")
        .and_then(Value::as_str)
        .filter(|n| *n != UNNUMBERED && !n.trim().is_empty())
        .unwrap_or("-")
        .to_owned();
    let date = date.map_or(filed, |d| d.format("%Y-%m-%d").to_string());
    Ok((number, date))
}

/// The Dinas's records of the request, newest value per record, in the vocabulary's order.
fn records(conn: &mut DbConn, request: RequestId) -> Result<Vec<(Artefact, String)>> {
    let rows: Vec<(String, String)> = request_items::table
        .filter(request_items::request_id.eq(request))
        .filter(request_items::kind.eq("artefact"))
        .order(request_items::id)
        .select((request_items::item, request_items::value))
        .load(conn)?;
    let mut latest: Vec<(Artefact, String)> = Vec::new();
    for (item, value) in rows {
        let Ok(artefact) = item.parse::<Artefact>() else {
            continue;
        };
        match latest.iter_mut().find(|(a, _)| *a == artefact) {
            Some(existing) => existing.1 = value,
            None => latest.push((artefact, value)),
        }
    }
    Ok(latest)
}

/// The configuration rows a letter lists (subdomain, server, address, account): the records
/// that describe the hosting, numbered.
fn numbered_rows(records: &[(Artefact, String)]) -> Value {
    let shown = [
        Artefact::Subdomain,
        Artefact::AlamatIp,
        Artefact::Server,
        Artefact::AkunHosting,
        Artefact::AplikasiTerpasang,
    ];
    let rows: Vec<Value> = shown
        .iter()
        .filter_map(|wanted| records.iter().find(|(a, _)| a == wanted))
        .enumerate()
        .map(|(i, (artefact, value))| json!({"no": i + 1, "item": artefact.name(), "value": value}))
        .collect();
    Value::Array(rows)
}

/// The applicant's attachments, by name, for the permohonan's list of enclosures.
fn attachments(conn: &mut DbConn, request: RequestId) -> Result<Vec<String>> {
    let rows: Vec<String> = request_items::table
        .filter(request_items::request_id.eq(request))
        .filter(request_items::kind.eq("attachment"))
        .order(request_items::id)
        .select(request_items::item)
        .load(conn)?;
    let mut names: Vec<String> = Vec::new();
    for item in rows {
        let name = item
            .parse::<crate::sop::Attachment>()
            .map_or(item.clone(), |a| a.name().to_owned());
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(names)
}

/// The applicant's own letterhead: their agency, in the office's region (naskah does not
/// know the agency's street address; the city stands alone).
fn applicant_letterhead(office: &Office, organization: &str) -> Value {
    json!({
        "government": office.government,
        "name": organization.to_uppercase(),
        "address": "",
        "city": office.city,
    })
}
