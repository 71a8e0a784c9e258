//! `naskah archive export`: the letters of one request, or of an office over a period, for
//! auditors and for transfer to national e-office and archive systems, as a ZIP: every PDF
//! revision each letter ever had, and a manifest twice, in XML (`manifest.xml`, written with
//! quick-xml) and in JSON (`manifest.json`), listing the letters with their numbers and
//! metadata, every revision with its SHA-256, the signatures, and the audit log's entries on
//! them. The export itself is recorded in the audit log with the manifest's SHA-256.
//! `check.rs` verifies such a ZIP offline.

use std::io::Write;

use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use crate::audit::{self, Event};
use crate::db::schema::{
    audit_log, issued_numbers, letter_revisions, letter_signatures, letters, offices, people,
};
use crate::db::{DbConn, write_transaction};
use crate::ids::{LetterId, OfficeId, PersonId, RequestId};

/// The manifest's format, so that a reader knows what it holds.
pub const FORMAT: &str = "naskah-arsip/1";
pub const MANIFEST_JSON: &str = "manifest.json";
pub const MANIFEST_XML: &str = "manifest.xml";

/// Which letters go out.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selection {
    /// The office's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<i64>,
    /// The period, by the letters' creation dates, both ends included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<chrono::NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<chrono::NaiveDate>,
}

/// The manifest: the same in both files. Lists are named in the singular, as XML repeats an
/// element per item (`<letter>…</letter><letter>…</letter>`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename = "archive")]
pub struct Manifest {
    pub format: String,
    pub exported_at: String,
    pub selection: Selection,
    #[serde(default, rename = "letter")]
    pub letters: Vec<Letter>,
    #[serde(default, rename = "audit_entry")]
    pub audit: Vec<AuditEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Letter {
    pub id: i64,
    pub public_id: String,
    pub office: String,
    pub kind: String,
    pub kind_name: String,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<chrono::NaiveDate>,
    pub sifat: String,
    pub hal: String,
    pub sender: String,
    pub addressee: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classification: Option<String>,
    /// The retention that holds for its classification code, where the office set one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<crate::classification::Retention>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub void_reason: Option<String>,
    #[serde(default, rename = "revision")]
    pub revisions: Vec<Revision>,
    #[serde(default, rename = "signature")]
    pub signatures: Vec<Signature>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    pub revision: i32,
    pub purpose: String,
    pub sha256: String,
    pub size: i64,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// Its path in the ZIP.
    pub file: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    pub revision: i32,
    pub field: String,
    pub kind: String,
    pub signer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nip: Option<String>,
    pub level: String,
    pub signed_at: String,
}

/// An audit log entry as stored, its hash and link included, so that each can be checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office_id: Option<i64>,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
    /// The entry's chain (0, or its office's id) and place in it; an archive exported before
    /// the chains were split has neither: its entries are chain 0 with `seq` their id.
    #[serde(default)]
    pub chain: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seq: Option<i64>,
}

impl AuditEntry {
    /// The entry's place in its chain.
    pub fn seq(&self) -> i64 {
        self.seq.unwrap_or(self.id)
    }
}

impl From<audit::Entry> for AuditEntry {
    fn from(e: audit::Entry) -> AuditEntry {
        AuditEntry {
            id: e.id,
            at: audit_time(e.at),
            actor_id: e.actor_id.map(|p| p.0),
            office_id: e.office_id.map(|o| o.0),
            action: e.action,
            subject: e.subject,
            detail: e.detail,
            prev_hash: e.prev_hash,
            hash: e.hash,
            chain: e.chain,
            seq: Some(e.seq),
        }
    }
}

impl AuditEntry {
    /// The entry again as the log holds it, to compute its hash.
    pub fn entry(&self) -> Option<audit::Entry> {
        Some(audit::Entry {
            id: self.id,
            at: chrono::NaiveDateTime::parse_from_str(&self.at, "%Y-%m-%dT%H:%M:%S%.f").ok()?,
            actor_id: self.actor_id.map(PersonId),
            office_id: self.office_id.map(OfficeId),
            action: self.action.clone(),
            subject: self.subject.clone(),
            detail: self.detail.clone(),
            prev_hash: self.prev_hash.clone(),
            hash: self.hash.clone(),
            chain: self.chain,
            seq: self.seq(),
        })
    }
}

/// Times as the audit log hashes them: to the microsecond.
fn audit_time(at: chrono::NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}")]
    Db(#[from] diesel::result::Error),
    #[error("no office '{0}'")]
    NoOffice(String),
    #[error("nothing to export: no letter matches")]
    Empty,
    #[error("writing the archive: {0}")]
    Write(String),
}

/// What an export wrote.
#[derive(Debug)]
pub struct Exported {
    pub letters: usize,
    pub revisions: usize,
    pub manifest_sha256: String,
    pub audit_entry: i64,
}

type LetterRow = (
    LetterId,
    String,
    String,
    String,
    String,
    Option<chrono::NaiveDate>,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<RequestId>,
    Option<String>,
);

/// Writes the letters `selection` names, their revisions and a manifest to `out` as a ZIP,
/// and records the export in the audit log as done by `actor`.
pub fn export(
    conn: &mut DbConn,
    selection: &Selection,
    actor: Option<PersonId>,
    out: impl Write + std::io::Seek,
) -> Result<Exported, ExportError> {
    export_with_progress(conn, selection, actor, out, &mut |_, _| {})
}

/// [`export`], telling `progress` (letters written, letters in all) after each letter.
pub fn export_with_progress(
    conn: &mut DbConn,
    selection: &Selection,
    actor: Option<PersonId>,
    out: impl Write + std::io::Seek,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Exported, ExportError> {
    let mut query = letters::table
        .inner_join(offices::table)
        .select((
            letters::id,
            letters::public_id,
            offices::code,
            letters::kind,
            letters::status,
            letters::letter_date,
            letters::sifat,
            letters::hal,
            letters::sender,
            letters::addressee,
            letters::classification_code,
            letters::request_id,
            letters::void_reason,
        ))
        .order(letters::id)
        .into_boxed();
    let mut office_id = None;
    if let Some(code) = &selection.office {
        let office = crate::office::find_by_code(conn, code)?
            .ok_or_else(|| ExportError::NoOffice(code.clone()))?;
        office_id = Some(office.id);
        query = query.filter(letters::office_id.eq(office.id));
    }
    if let Some(request) = selection.request {
        query = query.filter(letters::request_id.eq(RequestId(request)));
    }
    if let Some(from) = selection.from {
        query = query.filter(letters::created_at.ge(from.and_time(chrono::NaiveTime::MIN)));
    }
    if let Some(to) = selection.to {
        let next = to.succ_opt().unwrap_or(to).and_time(chrono::NaiveTime::MIN);
        query = query.filter(letters::created_at.lt(next));
    }
    let rows: Vec<LetterRow> = query.load(conn)?;
    if rows.is_empty() {
        return Err(ExportError::Empty);
    }

    let mut zip = zip::ZipWriter::new(out);
    let stored = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(false);
    let write_error = |e: &dyn std::fmt::Display| ExportError::Write(e.to_string());
    let mut manifest_letters = Vec::with_capacity(rows.len());
    let mut subjects = Vec::with_capacity(rows.len() + 1);
    let mut revision_count = 0;
    let total = rows.len();
    for (written, row) in rows.into_iter().enumerate() {
        progress(written, total);
        let (id, public_id, office, kind, status, date, sifat, hal, sender, addressee) = (
            row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8, row.9,
        );
        let (classification, request, void_reason) = (row.10, row.11, row.12);
        subjects.push(format!("letter:{id}"));
        let number: Option<String> = issued_numbers::table
            .filter(issued_numbers::letter_id.eq(id))
            .filter(issued_numbers::status.ne("void"))
            .select(issued_numbers::number)
            .first(conn)
            .optional()?;
        let revision_ids: Vec<(i64, i32)> = letter_revisions::table
            .filter(letter_revisions::letter_id.eq(id))
            .order(letter_revisions::revision)
            .select((letter_revisions::id, letter_revisions::revision))
            .load(conn)?;
        let mut revisions = Vec::with_capacity(revision_ids.len());
        // One PDF in memory at a time.
        for (row_id, _) in revision_ids {
            let (revision, purpose, sha256, size, created_at, actor, pdf): (
                i32,
                String,
                String,
                i64,
                chrono::NaiveDateTime,
                Option<String>,
                Vec<u8>,
            ) = letter_revisions::table
                .left_join(people::table)
                .filter(letter_revisions::id.eq(row_id))
                .select((
                    letter_revisions::revision,
                    letter_revisions::purpose,
                    letter_revisions::sha256,
                    letter_revisions::size,
                    letter_revisions::created_at,
                    people::username.nullable(),
                    letter_revisions::pdf,
                ))
                .first(conn)?;
            let file = format!("letters/{id}/{revision:02}-{purpose}.pdf");
            zip.start_file(file.as_str(), stored)
                .map_err(|e| write_error(&e))?;
            zip.write_all(&pdf).map_err(|e| write_error(&e))?;
            revisions.push(Revision {
                revision,
                purpose,
                sha256,
                size,
                created_at: audit_time(created_at),
                actor,
                file,
            });
            revision_count += 1;
        }
        let signatures = letter_signatures::table
            .inner_join(people::table)
            .filter(letter_signatures::letter_id.eq(id))
            .order(letter_signatures::revision)
            .select((
                letter_signatures::revision,
                letter_signatures::field_name,
                letter_signatures::kind,
                people::full_name,
                people::nip,
                letter_signatures::level,
                letter_signatures::signed_at,
            ))
            .load::<(
                i32,
                String,
                String,
                String,
                Option<String>,
                String,
                chrono::NaiveDateTime,
            )>(conn)?
            .into_iter()
            .map(
                |(revision, field, kind, signer, nip, level, at)| Signature {
                    revision,
                    field,
                    kind,
                    signer,
                    nip,
                    level,
                    signed_at: audit_time(at),
                },
            )
            .collect();
        let kind_name = kind
            .parse::<crate::letters::LetterKind>()
            .map_or_else(|_| kind.clone(), |k| k.name().to_owned());
        let retention = match (&classification, office_of_letter(conn, id)?) {
            (Some(code), office) => crate::classification::retention_of(conn, office, code)
                .map_err(|e| ExportError::Write(e.to_string()))?,
            (None, _) => None,
        };
        manifest_letters.push(Letter {
            id: id.0,
            public_id,
            office,
            kind,
            kind_name,
            status,
            number,
            date,
            sifat,
            hal,
            sender,
            addressee,
            classification,
            retention,
            request: request.map(|r| r.0),
            void_reason,
            revisions,
            signatures,
        });
    }
    progress(total, total);
    if let Some(request) = selection.request {
        subjects.push(format!("request:{request}"));
    }
    let audit: Vec<AuditEntry> = subjects
        .chunks(500)
        .map(|chunk| {
            audit_log::table
                .filter(audit_log::subject.eq_any(chunk))
                .select(audit::Entry::as_select())
                .load::<audit::Entry>(conn)
        })
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .map(AuditEntry::from)
        .collect();
    let mut audit = audit;
    audit.sort_by_key(|e| e.id);
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        exported_at: audit_time(crate::db::now()),
        selection: selection.clone(),
        letters: manifest_letters,
        audit,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| write_error(&e))?;
    let xml = to_xml(&manifest).map_err(|e| write_error(&e))?;
    for (name, bytes) in [(MANIFEST_JSON, &json), (MANIFEST_XML, &xml)] {
        zip.start_file(name, stored).map_err(|e| write_error(&e))?;
        zip.write_all(bytes).map_err(|e| write_error(&e))?;
    }
    zip.finish().map_err(|e| write_error(&e))?;

    let manifest_sha256 = crate::digest::sha256_hex(&json);
    let letters_count = manifest.letters.len();
    let entry = write_transaction(conn, |conn| {
        audit::append(
            conn,
            Event {
                actor,
                office: office_id,
                action: "archive.exported",
                subject: match selection.request {
                    Some(request) => format!("request:{request}"),
                    None => format!("office:{}", office_id.map_or(0, |o| o.0)),
                },
                detail: serde_json::json!({
                    "selection": selection,
                    "letters": letters_count,
                    "revisions": revision_count,
                    "manifest_sha256": manifest_sha256,
                }),
            },
        )
    })?;
    Ok(Exported {
        letters: letters_count,
        revisions: revision_count,
        manifest_sha256,
        audit_entry: entry.id,
    })
}

fn office_of_letter(conn: &mut DbConn, letter: LetterId) -> QueryResult<OfficeId> {
    letters::table
        .find(letter)
        .select(letters::office_id)
        .first(conn)
}

/// The manifest as XML, with a declaration.
pub fn to_xml(manifest: &Manifest) -> Result<Vec<u8>, quick_xml::SeError> {
    let mut text = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let mut serializer = quick_xml::se::Serializer::new(&mut text);
    serializer.indent(' ', 2);
    manifest.serialize(serializer)?;
    text.push('\n');
    Ok(text.into_bytes())
}
